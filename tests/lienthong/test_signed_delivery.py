"""Partners are data, messages are signed, delivery holds: outbox → signed HTTP → inbox, on both backends.
The receiving instance is the real Flask app on its own database; the sender's dispatcher posts to it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import lienthong_outbox, partners
from engine.config import load_settings
from engine.db import Database
from engine.models import Case, Event, InboxMessage, OutboxMessage, utcnow
from tests.api_client import Api

PING = {"kind": "ping", "note": "xin chào"}


@pytest.fixture
def pair(db: Database, sqlite_template: Path, tmp_path: Path):
    """Instance A (the test's backend) and instance B (its own SQLite file), each knowing the other."""
    import shutil

    shutil.copy(sqlite_template, tmp_path / "b.db")
    b_db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    a_id = partners.ensure_identity(tmp_path / "a", "UBND-XA-A")
    b_id = partners.ensure_identity(tmp_path / "b", "CONG-AN-B")
    with db.transaction() as s:
        partners.add_partner(s, "CONG-AN-B", "Công an B", "http://b.invalid", "system", b_id.secret)
    with b_db.transaction() as s:
        partners.add_partner(s, "UBND-XA-A", "UBND xã A", "http://a.invalid", "system", a_id.secret)
    b_api = Api(b_db, tmp_path / "b")
    yield db, a_id, b_db, b_api
    b_db.dispose()


def _to(b_api: Api, calls: list):
    def post(url: str, text: str, headers: dict) -> int:
        calls.append((url, json.loads(text)))
        return b_api.client.post("/api/v1/lienthong/messages", data=text, headers=headers).status_code
    return post


def _queue(db: Database, world_code: str | None = None, body: dict | None = None) -> int:
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == world_code)) if world_code else None
        row = lienthong_outbox.enqueue(s, "CONG-AN-B", "ping", body or PING, case=case)
        s.flush()
        return row.id


def test_partner_registry_refuses_bad_input_by_field_and_duplicates(api):
    bad = api.post("/api/v1/partners", user="admin",
                   json={"code": "X Y", "name": "Công an", "url": "ftp://x", "kind": "system", "key": "nope"})
    assert bad.status_code == 422
    assert set(bad.json["details"]) == {"code", "url", "key"}
    nameless = api.post("/api/v1/partners", user="admin", json={"code": "X", "name": "", "url": "http://x", "key": "k"})
    assert nameless.status_code == 422 and "name" in nameless.json["details"]
    good = {"code": "BHXH", "name": "Bảo hiểm xã hội tỉnh", "url": "https://bhxh.example.vn/", "kind": "system",
            "key": partners.new_secret(), "unit_code": None}
    created = api.post("/api/v1/partners", user="admin", json=good)
    assert created.status_code == 201 and created.json["url"] == "https://bhxh.example.vn"
    assert "key" not in created.json  # the secret is never answered back
    again = api.post("/api/v1/partners", user="admin", json=good)
    assert again.status_code == 409
    assert api.post("/api/v1/partners", user="xa_a1_clerk", json=good).status_code == 403
    listed = api.get("/api/v1/partners", user="admin").json
    assert [p["code"] for p in listed["items"]] == ["BHXH"]


def test_signed_message_is_stored_once_and_forgeries_are_refused(pair, tmp_path):
    _db, a_id, b_db, b_api = pair
    text, headers = partners.signed_request(a_id, partners.new_message_id(), {"message": "ping", **PING})
    first = b_api.client.post("/api/v1/lienthong/messages", data=text, headers=headers)
    assert first.status_code == 200 and first.json["status"] == "accepted"
    replay = b_api.client.post("/api/v1/lienthong/messages", data=text, headers=headers)
    assert replay.status_code == 200 and replay.json["status"] == "duplicate"  # acknowledged, nothing changed

    forger = partners.Identity("UBND-XA-A", partners.new_secret())  # right name, wrong key
    text2, h2 = partners.signed_request(forger, partners.new_message_id(), {"message": "ping"})
    wrong = b_api.client.post("/api/v1/lienthong/messages", data=text2, headers=h2)
    assert wrong.status_code == 401 and "signature" in wrong.json["details"]

    stranger = partners.Identity("KHONG-QUEN", partners.new_secret())
    text3, h3 = partners.signed_request(stranger, partners.new_message_id(), {"message": "ping"})
    unknown = b_api.client.post("/api/v1/lienthong/messages", data=text3, headers=h3)
    assert unknown.status_code == 401 and unknown.json["details"] == {"sender": "unknown"}

    old = utcnow() - timedelta(minutes=10)  # a captured message replayed later
    text4, h4 = partners.signed_request(a_id, partners.new_message_id(), {"message": "ping"}, now=old)
    stale = b_api.client.post("/api/v1/lienthong/messages", data=text4, headers=h4)
    assert stale.status_code == 401 and "timestamp" in stale.json["details"]

    tampered = text.replace("xin chào", "xin chao")
    h5 = {**headers, "webhook-id": "msg_other"}
    assert b_api.client.post("/api/v1/lienthong/messages", data=tampered, headers=headers).status_code == 401
    assert b_api.client.post("/api/v1/lienthong/messages", data=text, headers=h5).status_code == 401
    with b_db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_failures_back_off_then_become_an_incident_that_an_admin_retries(pair, world, api):
    db, a_id, _b_db, b_api = pair
    code = world.receive()
    outbox_id = _queue(db, code)
    settings = load_settings(database_url=db.url, lienthong_max_attempts=3, lienthong_backoff_seconds=2)

    def down(url: str, text: str, headers: dict) -> int:
        raise ConnectionRefusedError("B is down")

    now = utcnow()
    report = lienthong_outbox.dispatch(db, settings, a_id, now=now, post=down)
    assert report.failed and not report.delivered
    with db.transaction() as s:
        row = s.get(OutboxMessage, outbox_id)
        wait = (row.next_attempt_at - now).total_seconds()
        assert 1 <= wait <= 2 and row.attempts == 1 and "B is down" in row.last_error
    assert not lienthong_outbox.dispatch(db, settings, a_id, now=now + timedelta(milliseconds=500), post=down).failed
    for step in (1, 2):
        lienthong_outbox.dispatch(db, settings, a_id, now=now + timedelta(seconds=60 * step), post=down)
    with db.transaction() as s:
        assert s.get(OutboxMessage, outbox_id).state == "incident"
    listed = api.get("/api/v1/incidents", user="admin").json["items"]
    delivery = [i for i in listed if i["kind"] == "delivery"]
    assert delivery and delivery[0]["code"] == code and "B is down" in delivery[0]["error"]

    assert api.post(f"/api/v1/outbox/{outbox_id}/retry", user="admin").json["state"] == "pending"
    assert api.post(f"/api/v1/outbox/{outbox_id}/retry", user="admin").status_code == 409
    calls: list = []
    assert lienthong_outbox.dispatch(db, settings, a_id, post=_to(b_api, calls)).delivered
    with db.transaction() as s:
        kinds = [e.kind for e in s.scalars(select(Event).join(Case).where(Case.code == code).order_by(Event.id))
                 if e.kind.startswith("lienthong")]
    assert kinds == ["lienthong_queued", "lienthong_failed", "lienthong_failed", "lienthong_incident",
                     "lienthong_retried", "lienthong_sent"]


def test_a_lost_acknowledgement_is_retried_and_changes_nothing_at_the_receiver(pair, world):
    db, a_id, b_db, b_api = pair
    _queue(db)
    settings = load_settings(database_url=db.url)
    calls: list = []
    deliver = _to(b_api, calls)

    def ack_lost(url: str, text: str, headers: dict) -> int:
        deliver(url, text, headers)
        raise TimeoutError("the answer never came back")

    assert lienthong_outbox.dispatch(db, settings, a_id, post=ack_lost).failed
    assert lienthong_outbox.dispatch(db, settings, a_id, now=utcnow() + timedelta(seconds=5), post=deliver).delivered
    assert len(calls) == 2 and calls[0][1]["id"] == calls[1][1]["id"]
    with b_db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_messages_of_one_case_go_out_in_order_behind_a_failing_one(pair, world):
    db, a_id, _b_db, b_api = pair
    code = world.receive()
    first = _queue(db, code, {"kind": "ping", "n": 1})
    _queue(db, code, {"kind": "ping", "n": 2})
    settings = load_settings(database_url=db.url)
    calls: list = []
    deliver = _to(b_api, calls)

    def refuse_first(url: str, text: str, headers: dict) -> int:
        return 503 if json.loads(text)["n"] == 1 else deliver(url, text, headers)

    report = lienthong_outbox.dispatch(db, settings, a_id, post=refuse_first)
    assert len(report.failed) == 1 and not report.delivered  # n=2 waited behind n=1
    later = utcnow() + timedelta(minutes=5)
    lienthong_outbox.dispatch(db, settings, a_id, now=later, post=deliver)
    lienthong_outbox.dispatch(db, settings, a_id, now=later + timedelta(seconds=1), post=deliver)
    assert [c[1]["n"] for c in calls] == [1, 2]
    with db.transaction() as s:
        assert s.get(OutboxMessage, first).state == "delivered"
