"""motcua engine: the service layer that pages, the JSON API and the CLI all call. Never imports Flask."""
