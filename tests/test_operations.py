"""What an operator's probes and dashboards see: /healthz, /readyz (database, schema at head, scheduler
lease), Prometheus /metrics counting real receptions, completions, requests and the e-mail backlog, and one
JSON log line per request carrying the request id (echoed to the client) and the user."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from engine import scheduler
from engine.config import load_settings
from engine.db import Database
from engine.models import Notification, utcnow
from web import create_app

APPLICANT = {"name": "Lê Văn Cường", "id_number": "036090007777", "address": "Thôn 2, xã An Phú",
             "email": "cuong@example.vn"}


def scrape(api: Any) -> dict[tuple[str, tuple], float]:
    resp = api.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_answers_while_the_database_is_down_and_readyz_says_so(tmp_path: Path) -> None:
    gone = Database("postgresql://postgres@127.0.0.1:1/motcua")  # nothing listens on port 1
    app = create_app(load_settings(database_url=gone.url, instance_path=tmp_path), database=gone)
    client = app.test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"ready": False, "database": {"ok": False, "error": "OperationalError"}}


def test_readyz_reports_schema_and_who_holds_the_scheduler_lease(api: Any) -> None:
    body = api.get("/readyz").get_json()
    assert body["ready"] is True and body["database"]["ok"] is True
    assert body["schema"]["at_head"] and body["schema"]["current"] == body["schema"]["head"]
    assert body["scheduler"] == {"holder": None, "active": False, "lease_expires_at": None}
    with api.db.transaction() as s:
        assert scheduler.acquire_lease(s, "node-a:4242", utcnow(), 30)
    body = api.get("/readyz").get_json()
    assert body["scheduler"]["holder"] == "node-a:4242" and body["scheduler"]["active"] is True
    with api.db.transaction() as s:
        scheduler.release_lease(s, "node-a:4242", utcnow() - timedelta(seconds=1))
    assert api.get("/readyz").get_json()["scheduler"]["active"] is False


def test_readyz_is_503_when_the_schema_is_behind(api: Any) -> None:
    with api.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    resp = api.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["ready"] is False and body["schema"]["current"] == ["0001"]


def test_metrics_count_receptions_completions_and_latency(api: Any) -> None:
    before = scrape(api)
    case = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "ncc_mai_tang", "applicant": APPLICANT,
                                                          "channel": "post"}).get_json()
    refused = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "ncc_mai_tang", "applicant": {}})
    assert refused.status_code == 422  # rolled back: not a reception
    task = case["tasks"][0]
    user = f"{task['unit'].lower()}_{task['role']}"
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"data": {"outcome": "approve"}})
    assert done.status_code == 200, done.get_json()
    after = scrape(api)
    assert value(after, "motcua_receptions_total", channel="post") - \
        value(before, "motcua_receptions_total", channel="post") == 1
    assert value(after, "motcua_task_completions_total") - value(before, "motcua_task_completions_total") == 1
    endpoint = {"endpoint": "api.create_case", "method": "POST"}
    assert value(after, "motcua_http_request_duration_seconds_count", **endpoint) - \
        value(before, "motcua_http_request_duration_seconds_count", **endpoint) == 2
    assert value(after, "motcua_http_requests_total", status="422", **endpoint) - \
        value(before, "motcua_http_requests_total", status="422", **endpoint) == 1


def test_metrics_show_the_email_backlog(api: Any) -> None:
    assert value(scrape(api), "motcua_outbox_backlog") == 0
    with api.db.transaction() as s:
        s.add_all([Notification(email="an@example.vn", kind="apology", message="Xin lỗi"),
                   Notification(email="binh@example.vn", kind="apology", message="Xin lỗi", emailed_at=utcnow()),
                   Notification(email=None, kind="timer", message="Không có địa chỉ")])
    assert value(scrape(api), "motcua_outbox_backlog") == 1


def test_each_request_logs_one_json_line_with_its_id_and_user(api: Any, caplog: pytest.LogCaptureFixture) -> None:
    api.get("/healthz")  # the app's loggers are set up
    caplog.clear()
    given = api.get("/api/v1/tasks", "huyen_a_specialist", headers={"X-Request-Id": "lb-7f3a.42"})
    made = api.get("/healthz", headers={"X-Request-Id": "<script>"})
    assert given.headers["X-Request-Id"] == "lb-7f3a.42"
    generated = made.headers["X-Request-Id"]
    assert generated != "<script>" and len(generated) == 32
    from web.jsonlog import JsonFormatter

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "motcua.request"]
    assert [(x["request_id"], x["user"], x["method"], x["path"], x["status"]) for x in lines] == [
        ("lb-7f3a.42", "huyen_a_specialist", "GET", "/api/v1/tasks", 200),
        (generated, None, "GET", "/healthz", 200)]
    assert all(x["duration_ms"] >= 0 and x["level"] == "info" for x in lines)


def test_client_address_comes_from_the_proxy_only_when_one_is_trusted(
        db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen = []
    for proxies in (0, 1):
        app = create_app(load_settings(database_url=db.url, instance_path=tmp_path, proxy_fix=proxies),
                         database=db)
        caplog.clear()
        app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
        seen += [r.fields["remote"] for r in caplog.records if r.name == "motcua.request"]
    assert seen == ["127.0.0.1", "203.0.113.7"]  # a client cannot claim another address without nginx

