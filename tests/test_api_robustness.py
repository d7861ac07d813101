"""Whatever a client sends to the JSON API — requests generated from its own OpenAPI document — the answer
is JSON (a success, or an error with a message), never a server error."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings


def fuzz(operation: Any, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        assert response.status_code < 500, (operation.label, case.path_parameters, case.body, response.text)
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), operation.label
        if response.status_code >= 400:
            assert response.json()["message"], operation.label

    check()


def test_generated_requests_never_get_a_server_error(api: Any) -> None:
    token = api.token("xa_a1_clerk")
    api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "ncc_mai_tang", "applicant": {"name": "Phạm Thị Dung"}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        fuzz(operation, token)
