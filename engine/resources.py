"""Files motcua ships with its code, found through importlib.resources so that an installed wheel reads
them from its own package (site-packages), never from a checkout or the working directory.

`engine/shipped/` holds the procedures (bpmn/, processes/) and the slip templates (slips/). In the
repository those three are symlinks to the top-level folders where process designers edit them; the
wheel carries copies (setup.cfg package_data). Alembic's scripts live in `engine/migrations/`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """A folder or file inside an installed package, as a filesystem path (Alembic, Jinja2, WeasyPrint and
    Flask-Babel all need real paths, so motcua is installed unpacked — pip always does that)."""
    found = files(package).joinpath(*parts)
    if not isinstance(found, Path):
        raise RuntimeError(f"{package} is not installed as files on disk ({found!r}); install the wheel with pip")
    return found


def shipped(*parts: str) -> Path:
    """engine/shipped/…: `shipped()` is the catalog root (bpmn/, processes/), `shipped("slips")` the slips."""
    return package_path("engine", "shipped", *parts)


def migrations() -> Path:
    return package_path("engine", "migrations")
