"""Small diagrams, one per time behaviour (timers, supplement pause), deployed by the tests that use them."""

from __future__ import annotations

from pathlib import Path

from engine.db import Database
from engine.deploy import deploy

HERE = Path(__file__).parent


def deploy_test_diagram(database: Database, name: str, procedure_code: str | None = None) -> str:
    """Deploy tests/bpmn/<name>.bpmn as procedure `procedure_code` (default: name); returns the code."""
    code = procedure_code or name
    with database.transaction() as s:
        deploy(s, (HERE / f"{name}.bpmn").read_bytes(), f"{name}.bpmn", forms={}, procedure_code=code)
    return code
