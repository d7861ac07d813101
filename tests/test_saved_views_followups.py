"""Saved filters (private or shared with the unit) and an official's own follow-up on a step, which the sweep
puts in their bell once when its moment comes; through the JSON API on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.calendar import VN_TZ
from engine.models import Notification, User, utcnow
from engine.scheduler import sweep


def bell(db, username: str, kind: str) -> list[str]:
    with db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return [n.message for n in s.scalars(select(Notification).where(Notification.user_id == uid,
                                                                        Notification.kind == kind))]


def test_saved_views_private_shared_and_deleted_by_their_owner(api) -> None:
    mine = api.post("/api/v1/views", user="xa_a1_specialist",
                    json={"kind": "inbox", "name": "Quá hạn của tôi", "filters": {"claimed": "me", "state": "overdue"}})
    assert mine.status_code == 201, mine.json
    shared = api.post("/api/v1/views", user="xa_a1_specialist",
                      json={"kind": "cases", "name": "Hồ sơ An", "filters": {"q": "Nguyễn Văn An"}, "shared": True})
    assert shared.status_code == 201
    names = [v["name"] for v in api.get("/api/v1/views", user="xa_a1_specialist").json["items"]]
    assert sorted(names) == ["Hồ sơ An", "Quá hạn của tôi"]
    # A colleague of the unit sees only the shared one; another unit sees none.
    assert [v["name"] for v in api.get("/api/v1/views", user="xa_a1_clerk").json["items"]] == ["Hồ sơ An"]
    assert api.get("/api/v1/views", user="xa_a2_clerk").json["items"] == []
    assert [v["name"] for v in api.get("/api/v1/views?kind=inbox", user="xa_a1_specialist").json["items"]] == \
        ["Quá hạn của tôi"]
    assert api.call("DELETE", f"/api/v1/views/{shared.json['id']}", user="xa_a1_clerk").status_code == 404
    assert api.call("DELETE", f"/api/v1/views/{shared.json['id']}", user="xa_a1_specialist").status_code == 204
    assert api.get("/api/v1/views", user="xa_a1_clerk").json["items"] == []


def test_saved_view_filters_are_checked(api) -> None:
    r = api.post("/api/v1/views", user="xa_a1_clerk", json={"kind": "inbox", "name": "x", "filters": {"state": "late"}})
    assert r.status_code == 422 and "filters.state" in r.json["details"]
    r = api.post("/api/v1/views", user="xa_a1_clerk", json={"kind": "inbox", "name": "x", "filters": {"q": "a"}})
    assert r.status_code == 422 and "filters.q" in r.json["details"]
    r = api.post("/api/v1/views", user="xa_a1_clerk", json={"kind": "cases", "name": "x", "filters": {}})
    assert r.status_code == 422 and "filters" in r.json["details"]
    r = api.post("/api/v1/views", user="xa_a1_clerk", json={"kind": "cases", "name": "", "filters": {"q": "a"}})
    assert r.status_code == 422 and "name" in str(r.json["details"])


def test_follow_up_reaches_the_bell_once_when_its_moment_comes(api, world, db) -> None:
    code = world.receive()
    item_id, _unit, _role = world.open_item(code)
    soon = (utcnow() + timedelta(hours=2)).astimezone(VN_TZ)
    r = api.call("PUT", f"/api/v1/tasks/{item_id}/follow-up", user="xa_a1_specialist",
                 json={"at": soon.strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 200, r.json
    sweep(db, now=utcnow() + timedelta(hours=1))
    assert bell(db, "xa_a1_specialist", "followup") == []
    sweep(db, now=utcnow() + timedelta(hours=3))
    sweep(db, now=utcnow() + timedelta(hours=4))
    assert bell(db, "xa_a1_specialist", "followup") == [f"Nhắc lại: «{_step(api, item_id)}» của hồ sơ {code}"]
    assert bell(db, "xa_a1_leader", "followup") == []  # for oneself only


def _step(api, item_id: int) -> str:
    return api.get(f"/api/v1/tasks/{item_id}", user="xa_a1_specialist").json["name"]


def test_follow_up_refuses_the_past_strangers_and_can_be_cleared(api, world, db) -> None:
    code = world.receive()
    item_id, _unit, _role = world.open_item(code)
    r = api.call("PUT", f"/api/v1/tasks/{item_id}/follow-up", user="xa_a1_specialist", json={"at": "2020-01-01T08:00"})
    assert r.status_code == 422 and "at" in r.json["details"]
    r = api.call("PUT", f"/api/v1/tasks/{item_id}/follow-up", user="xa_a1_specialist", json={"at": "ngày mai"})
    assert r.status_code == 422 and "at" in r.json["details"]
    r = api.call("PUT", f"/api/v1/tasks/{item_id}/follow-up", user="xa_b1_specialist", json={"at": "2099-01-01"})
    assert r.status_code == 404
    later = (utcnow() + timedelta(hours=2)).isoformat()
    assert api.call("PUT", f"/api/v1/tasks/{item_id}/follow-up", user="xa_a1_specialist",
                    json={"at": later}).status_code == 200
    assert api.call("DELETE", f"/api/v1/tasks/{item_id}/follow-up", user="xa_a1_specialist").status_code == 204
    sweep(db, now=utcnow() + timedelta(hours=3))
    assert bell(db, "xa_a1_specialist", "followup") == []
