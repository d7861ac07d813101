"""Settings read from the environment, once, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path
    working_hours: str = "07:30-11:30,13:00-17:00"
    sweep_seconds: float = 2.0
    lease_seconds: float = 15.0
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "motcua@localhost"
    public_base_url: str = "http://127.0.0.1:5000"
    max_upload_mb: int = 20
    trusted_proxies: int = 0  # reverse proxies in front (nginx: 1) whose X-Forwarded-* headers are believed
    extra: dict = field(default_factory=dict)

    @property
    def documents_path(self) -> Path:
        return self.instance_path / "documents"


def load_settings(**overrides: object) -> Settings:
    """Build settings from MOTCUA_* environment variables; keyword overrides win (tests)."""
    env = os.environ
    instance = Path(str(overrides.pop("instance_path", None) or env.get("MOTCUA_INSTANCE_PATH", "instance")))
    instance = instance.resolve()
    url = str(overrides.pop("database_url", None) or env.get("MOTCUA_DATABASE_URL")
              or f"sqlite:///{instance / 'motcua.db'}")
    values: dict = {
        "working_hours": env.get("MOTCUA_WORKING_HOURS", "07:30-11:30,13:00-17:00"),
        "sweep_seconds": float(env.get("MOTCUA_SWEEP_SECONDS", "2")),
        "lease_seconds": float(env.get("MOTCUA_LEASE_SECONDS", "15")),
        "smtp_host": env.get("MOTCUA_SMTP_HOST") or None,
        "smtp_port": int(env.get("MOTCUA_SMTP_PORT", "25")),
        "mail_from": env.get("MOTCUA_MAIL_FROM", "motcua@localhost"),
        "public_base_url": env.get("MOTCUA_PUBLIC_URL", "http://127.0.0.1:5000"),
        "max_upload_mb": int(env.get("MOTCUA_MAX_UPLOAD_MB", "20")),
        "trusted_proxies": int(env.get("MOTCUA_TRUSTED_PROXIES", "0")),
    }
    values.update(overrides)
    return Settings(database_url=url, instance_path=instance, **values)
