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
    script_cpu_ms: int = 200  # CPU budget of each diagram script, condition and timer expression
    script_memory_mb: int = 64  # memory budget of each (estimated on the operations that make big objects)
    proxy_fix: int = 0  # reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted
    token_days: int = 90  # lifetime of a new API token
    # How far back (working days) a desk may date a reception: paper dossiers entered late. Operators
    # entering a backlog raise it for a while; every back-dated reception is audited with who entered it.
    backdate_max_days: int = 10
    # Rate limits (docs/security.md): one store shared by every worker; redis://… in production.
    ratelimit_storage: str = "memory://"
    ratelimit_prefix: str = "motcua"
    secret_check_limit: str = "10/minute"
    online_submit_limit: str = "5/minute"
    verify_limit: str = "20/minute"  # signature checks (/xac-thuc, POST /api/v1/public/verify) per address
    online_bytes_per_day: int = 50 * 1024 * 1024
    login_failures_per_account: int = 5
    login_failures_per_address: int = 100
    login_max_delay_seconds: int = 900
    # Liên thông (engine.partners): this system's identity towards partners, and how hard the dispatcher tries.
    agency_code: str = ""
    lienthong_max_attempts: int = 8
    lienthong_backoff_seconds: float = 2.0
    extra: dict = field(default_factory=dict)

    @property
    def documents_path(self) -> Path:
        return self.instance_path / "documents"

    @property
    def signing_path(self) -> Path:
        """The agencies' signing keys and the trust roots (engine.signing); MOTCUA_SIGNING_PATH moves them."""
        return Path(os.environ.get("MOTCUA_SIGNING_PATH") or self.instance_path / "signing")


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
        "script_cpu_ms": int(env.get("MOTCUA_SCRIPT_CPU_MS", "200")),
        "script_memory_mb": int(env.get("MOTCUA_SCRIPT_MEMORY_MB", "64")),
        "proxy_fix": int(env.get("MOTCUA_PROXY_FIX", "0")),
        "token_days": int(env.get("MOTCUA_TOKEN_DAYS", "90")),
        "backdate_max_days": backdate_max_days(),
        "ratelimit_storage": env.get("MOTCUA_RATELIMIT_STORAGE", "memory://"),
        "ratelimit_prefix": env.get("MOTCUA_RATELIMIT_PREFIX", "motcua"),
        "secret_check_limit": env.get("MOTCUA_SECRET_CHECK_LIMIT", "10/minute"),
        "online_submit_limit": env.get("MOTCUA_ONLINE_SUBMIT_LIMIT", "5/minute"),
        "verify_limit": env.get("MOTCUA_VERIFY_LIMIT", "20/minute"),
        "online_bytes_per_day": int(env.get("MOTCUA_ONLINE_BYTES_PER_DAY", str(50 * 1024 * 1024))),
        "login_failures_per_account": int(env.get("MOTCUA_LOGIN_FAILURES_PER_ACCOUNT", "5")),
        "login_failures_per_address": int(env.get("MOTCUA_LOGIN_FAILURES_PER_ADDRESS", "100")),
        "login_max_delay_seconds": int(env.get("MOTCUA_LOGIN_MAX_DELAY_SECONDS", "900")),
        "agency_code": env.get("MOTCUA_AGENCY_CODE", ""),
        "lienthong_max_attempts": int(env.get("MOTCUA_LIENTHONG_MAX_ATTEMPTS", "8")),
        "lienthong_backoff_seconds": float(env.get("MOTCUA_LIENTHONG_BACKOFF_SECONDS", "2")),
    }
    values.update(overrides)
    return Settings(database_url=url, instance_path=instance, **values)


def backdate_max_days() -> int:
    """MOTCUA_BACKDATE_MAX_DAYS (working days, default 10); the engine reads it when no caller passes one."""
    return max(0, int(os.environ.get("MOTCUA_BACKDATE_MAX_DAYS", "10")))
