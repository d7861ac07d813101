"""Schema management: Alembic migrations shipped inside the package, run against a live connection."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from engine.resources import migrations


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations()))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is already there."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`motcua db revision`)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
