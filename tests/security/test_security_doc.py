"""docs/security.md is what an operator configures from: its headers are the ones sent, every setting it names is
read by the app, and every default it states is the app's default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.config import load_settings
from web.security import CSP, HEADERS, HSTS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
CODE = "\n".join(p.read_text(encoding="utf-8") for d in ("engine", "web") for p in (ROOT / d).rglob("*.py"))


def test_the_documented_headers_are_the_ones_sent() -> None:
    for name, value in {**HEADERS, "Strict-Transport-Security": HSTS}.items():
        assert f"| `{name}` | `{value}` |" in DOC, name
    assert CSP == HEADERS["Content-Security-Policy"]


def test_every_setting_named_is_read_by_the_app() -> None:
    names = set(re.findall(r"MOTCUA_[A-Z_]+", DOC)) - {"MOTCUA_TEST_REDIS"}  # the tests' own
    assert len(names) > 15
    assert [n for n in sorted(names) if f'"{n}"' not in CODE] == []


def _documented_default(setting: str) -> str:
    """The default cell of the table row naming `setting` (settings tables: setting first; limits: setting last)."""
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and f"`{setting}`" in (cells[0], cells[-1]):
            return cells[1] if cells[0] == f"`{setting}`" else cells[-2]
    raise AssertionError(f"{setting} has no row in docs/security.md")


@pytest.mark.parametrize("setting,field", [
    ("MOTCUA_BACKDATE_MAX_DAYS", None), ("MOTCUA_MAX_UPLOAD_MB", "max_upload_mb"),
    ("MOTCUA_SCRIPT_CPU_MS", "script_cpu_ms"), ("MOTCUA_SCRIPT_MEMORY_MB", "script_memory_mb"),
    ("MOTCUA_SECRET_CHECK_LIMIT", "secret_check_limit"), ("MOTCUA_ONLINE_SUBMIT_LIMIT", "online_submit_limit"),
    ("MOTCUA_VERIFY_LIMIT", "verify_limit"), ("MOTCUA_ONLINE_BYTES_PER_DAY", "online_bytes_per_day"),
    ("MOTCUA_LOGIN_FAILURES_PER_ACCOUNT", "login_failures_per_account"),
    ("MOTCUA_LOGIN_FAILURES_PER_ADDRESS", "login_failures_per_address"),
    ("MOTCUA_LOGIN_MAX_DELAY_SECONDS", "login_max_delay_seconds")])
def test_documented_defaults_are_the_apps(setting: str, field: str | None, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.delenv(setting, raising=False)
    if field is None:
        from engine.config import backdate_max_days

        default = backdate_max_days()
    else:
        default = getattr(load_settings(database_url="sqlite://", instance_path=tmp_path), field)
    assert re.search(rf"(^|[`\s]){re.escape(str(default))}([`\s]|$)", _documented_default(setting)), \
        (setting, default, _documented_default(setting))


def test_token_lifetime_and_proxy_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MOTCUA_TOKEN_DAYS", raising=False)
    monkeypatch.delenv("MOTCUA_PROXY_FIX", raising=False)
    settings = load_settings(database_url="sqlite://", instance_path=tmp_path)
    assert settings.token_days == 90 and "`MOTCUA_TOKEN_DAYS` days (default 90)" in DOC
    assert settings.proxy_fix == 0 and "0 (default) trusts none" in DOC
