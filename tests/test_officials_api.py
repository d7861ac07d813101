"""Assignment, unit load, deputies and comments through the JSON API, on SQLite and PostgreSQL: what a head,
a specialist, their deputy and a colleague on the case's path each get, and what others are refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import org
from engine.calendar import VN_TZ
from engine.control_slip import control_rows
from engine.models import Case, Notification, User, utcnow


def district_step(api, world) -> tuple[str, int]:
    """A case at huyện Hòa An's specialist (the commune steps done); returns (code, task id)."""
    code = world.receive()
    for _ in range(5):
        item_id, unit, role = world.open_item(code)
        if unit == "HUYEN_A":
            break
        world.complete_next(code)
    assert (unit, role) == ("HUYEN_A", "specialist")
    return code, item_id


def second_specialist(db, username: str = "huyen_a_specialist2", unit: str = "HUYEN_A") -> None:
    with db.transaction() as s:
        org.add_user(s, username, unit, ["specialist"], password="motcua2026", full_name="Trần Thị Bình")


def notes_of(db, username: str) -> list[str]:
    with db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return [n.message for n in s.scalars(select(Notification).where(Notification.user_id == uid))]


def today_text(days: int = 0) -> str:
    return (utcnow().astimezone(VN_TZ) + timedelta(days=days)).date().isoformat()


# --- assignment ---------------------------------------------------------------------------------


def test_head_assigns_a_step_the_assignee_finds_it_as_theirs_and_is_notified(api, world, db) -> None:
    code, item_id = district_step(api, world)
    second_specialist(db)
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head",
                 json={"username": "huyen_a_specialist2", "note": "Ưu tiên", "target": today_text()})
    assert r.status_code == 200, r.json
    assert r.json["assignee"] == "huyen_a_specialist2" and r.json["task"]["claimed_by"] == "huyen_a_specialist2"
    mine = api.get("/api/v1/tasks?claimed=me", user="huyen_a_specialist2").json["items"]
    assert [t["id"] for t in mine] == [item_id]
    assert any(code in m and "Ưu tiên" in m for m in notes_of(db, "huyen_a_specialist2"))
    # The other specialist can no longer complete it; the assignee can.
    r = api.post(f"/api/v1/tasks/{item_id}/complete", user="huyen_a_specialist", json={"data": {"outcome": "approve"}})
    assert r.status_code == 409 and r.json["details"]["claimed_by"] == "huyen_a_specialist2"
    r = api.post(f"/api/v1/tasks/{item_id}/complete", user="huyen_a_specialist2", json={"data": {"outcome": "approve"}})
    assert r.status_code == 200, r.json
    events = api.get(f"/api/v1/cases/{code}", user="huyen_a_head").json["events"]
    assigned = [e for e in events if e["kind"] == "assigned"]
    assert assigned and assigned[0]["actor"] == "huyen_a_head"
    assert assigned[0]["data"]["assignee"] == "huyen_a_specialist2"


def test_reassign_moves_the_step_and_the_load_counts_it(api, world, db) -> None:
    _code, item_id = district_step(api, world)
    second_specialist(db)
    assert api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head",
                    json={"username": "huyen_a_specialist"}).status_code == 200
    load = api.get("/api/v1/units/HUYEN_A/load", user="huyen_a_head").json
    people = {p["username"]: p for p in load["people"]}
    assert people["huyen_a_specialist"]["open"] == 1 and people["huyen_a_specialist2"]["open"] == 0
    assert api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head",
                    json={"username": "huyen_a_specialist2"}).status_code == 200
    people = {p["username"]: p for p in api.get("/api/v1/units/HUYEN_A/load", user="huyen_a_head").json["people"]}
    assert people["huyen_a_specialist"]["open"] == 0 and people["huyen_a_specialist2"]["open"] == 1
    assert people["huyen_a_specialist2"]["overdue"] == 0


def test_overdue_steps_are_counted_per_holder(api, world, db) -> None:
    _code, item_id = district_step(api, world)
    with db.transaction() as s:
        from engine.models import WorkItem
        s.get(WorkItem, item_id).due_at = utcnow() - timedelta(hours=1)
    load = api.get("/api/v1/units/HUYEN_A/load", user="huyen_a_head").json
    assert load["unassigned"] == 1 and load["unassigned_overdue"] == 1
    api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head", json={"username": "huyen_a_specialist"})
    load = api.get("/api/v1/units/HUYEN_A/load", user="huyen_a_head").json
    people = {p["username"]: p for p in load["people"]}
    assert (people["huyen_a_specialist"]["open"], people["huyen_a_specialist"]["overdue"]) == (1, 1)
    assert load["unassigned"] == 0


def test_head_of_another_unit_can_neither_assign_nor_see_the_load(api, world) -> None:
    _code, item_id = district_step(api, world)
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_b_head", json={"username": "huyen_a_specialist"})
    assert r.status_code in (403, 404)
    r = api.get("/api/v1/units/HUYEN_A/load", user="huyen_b_head")
    assert r.status_code == 403 and r.json["details"] == {"unit": "HUYEN_A"}
    # Nor may a specialist of the unit itself.
    assert api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_specialist",
                    json={"username": "huyen_a_specialist"}).status_code == 403
    assert api.get("/api/v1/units/HUYEN_A/load", user="huyen_a_specialist").status_code == 403
    assert api.get("/api/v1/units/NOPE/load", user="huyen_a_head").status_code == 404


def test_assignment_refuses_the_wrong_person_and_a_target_after_the_due_day(api, world) -> None:
    _code, item_id = district_step(api, world)
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head", json={"username": "huyen_b_specialist"})
    assert r.status_code == 422 and "username" in r.json["details"]
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head", json={"username": "huyen_a_clerk"})
    assert r.status_code == 422 and "username" in r.json["details"]
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head",
                 json={"username": "huyen_a_specialist", "target": today_text(400)})
    assert r.status_code == 422 and "target" in r.json["details"]
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head",
                 json={"username": "huyen_a_specialist", "target": "31/12/2026"})
    assert r.status_code == 422 and "target" in r.json["details"]
    r = api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head", json={"note": "x"})
    assert r.status_code == 422 and "username" in str(r.json["details"])


# --- deputies -------------------------------------------------------------------------------------


def test_deputy_completes_on_behalf_and_both_names_are_recorded(api, world, db) -> None:
    code, item_id = district_step(api, world)
    second_specialist(db)
    api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head", json={"username": "huyen_a_specialist"})
    # Before the delegation the colleague cannot act on the step held by the specialist.
    r = api.post(f"/api/v1/tasks/{item_id}/complete", user="huyen_a_specialist2", json={"data": {"outcome": "approve"}})
    assert r.status_code == 409
    r = api.post("/api/v1/delegations", user="huyen_a_specialist",
                 json={"to": "huyen_a_specialist2", "starts": today_text(), "until": today_text(3)})
    assert r.status_code == 201, r.json
    assert r.json["delegator"] == "huyen_a_specialist" and r.json["deputy"] == "huyen_a_specialist2"
    mine = api.get("/api/v1/tasks?claimed=me", user="huyen_a_specialist2").json["items"]
    assert [t["id"] for t in mine] == [item_id]
    r = api.post(f"/api/v1/tasks/{item_id}/complete", user="huyen_a_specialist2", json={"data": {"outcome": "approve"}})
    assert r.status_code == 200, r.json
    done = [e for e in api.get(f"/api/v1/cases/{code}", user="huyen_a_head").json["events"]
            if e["kind"] == "task_completed" and e["to_unit"] is None and e["actor"] == "huyen_a_specialist2"]
    assert done and done[-1]["data"]["on_behalf_of"] == "huyen_a_specialist"
    with db.transaction() as s:
        rows = control_rows(s, s.scalar(select(Case).where(Case.code == code)))
        text = " ".join(f"{r.actor} {r.note}" for r in rows)
    assert "Trần Thị Bình thay mặt" in text


def test_delegations_list_revoke_and_end_by_themselves(api, world, db) -> None:
    _code, item_id = district_step(api, world)
    second_specialist(db)
    past = api.post("/api/v1/delegations", user="huyen_a_specialist",
                    json={"to": "huyen_a_specialist2", "starts": today_text(-5), "until": today_text(-1)})
    assert past.status_code == 422 and "until" in past.json["details"]
    later = api.post("/api/v1/delegations", user="huyen_a_specialist",
                     json={"to": "huyen_a_specialist2", "starts": today_text(2), "until": today_text(4)})
    assert later.status_code == 201
    # Not started yet: the colleague sees none of the specialist's steps.
    assert api.get("/api/v1/tasks", user="huyen_a_specialist2").json["items"] == [] or \
        all(t["id"] != item_id for t in api.get("/api/v1/tasks?claimed=me", user="huyen_a_specialist2").json["items"])
    listed = api.get("/api/v1/delegations", user="huyen_a_specialist2").json["items"]
    assert [d["id"] for d in listed] == [later.json["id"]]
    assert [d["id"] for d in api.get("/api/v1/delegations", user="huyen_a_head").json["items"]] == [later.json["id"]]
    assert api.get("/api/v1/delegations", user="huyen_b_head").json["items"] == []
    assert api.call("DELETE", f"/api/v1/delegations/{later.json['id']}", user="huyen_b_head").status_code == 404
    r = api.call("DELETE", f"/api/v1/delegations/{later.json['id']}", user="huyen_a_specialist")
    assert r.status_code == 200 and r.json["revoked_at"]
    assert api.get("/api/v1/delegations", user="huyen_a_specialist").json["items"] == []


def test_no_chains_other_units_or_strangers(api, world, db) -> None:
    second_specialist(db)
    body = {"to": "huyen_a_specialist2", "starts": today_text(), "until": today_text(2)}
    assert api.post("/api/v1/delegations", user="huyen_a_specialist", json=body).status_code == 201
    back = api.post("/api/v1/delegations", user="huyen_a_specialist2",
                    json={"to": "huyen_a_specialist", "starts": today_text(1), "until": today_text(5)})
    assert back.status_code == 409
    onward = api.post("/api/v1/delegations", user="huyen_a_specialist2",
                      json={"to": "huyen_a_head", "starts": today_text(), "until": today_text()})
    assert onward.status_code == 409
    other = api.post("/api/v1/delegations", user="huyen_a_specialist",
                     json={"to": "huyen_b_specialist", "starts": today_text(5), "until": today_text(6)})
    assert other.status_code == 422 and "to" in other.json["details"]
    # A head names a deputy for an official of the unit; a head of another unit may not.
    by_head = api.post("/api/v1/delegations", user="huyen_a_head",
                       json={"to": "huyen_a_leader", "for": "huyen_a_clerk", "starts": today_text(),
                             "until": today_text(1), "procedures": ["ncc_mai_tang"]})
    assert by_head.status_code == 201 and by_head.json["procedures"] == ["ncc_mai_tang"]
    assert api.post("/api/v1/delegations", user="huyen_b_head",
                    json={"to": "huyen_a_leader", "for": "huyen_a_clerk", "starts": today_text(),
                          "until": today_text(1)}).status_code == 403
    bad = api.post("/api/v1/delegations", user="huyen_a_specialist",
                   json={"to": "huyen_a_head", "starts": "hôm nay", "until": today_text(1)})
    assert bad.status_code == 422 and "starts" in str(bad.json["details"])
    unknown = api.post("/api/v1/delegations", user="huyen_a_specialist",
                       json={"to": "huyen_a_head", "starts": today_text(9), "until": today_text(9),
                             "procedures": ["khong_co"]})
    assert unknown.status_code == 422 and "procedures" in unknown.json["details"]


def test_deputy_for_chosen_procedures_only(api, world, db) -> None:
    _code, item_id = district_step(api, world)
    second_specialist(db)
    api.post(f"/api/v1/tasks/{item_id}/assign", user="huyen_a_head", json={"username": "huyen_a_specialist"})
    api.post("/api/v1/delegations", user="huyen_a_specialist",
             json={"to": "huyen_a_specialist2", "starts": today_text(), "until": today_text(),
                   "procedures": ["tro_cap_xa_hoi"]})
    assert api.get("/api/v1/tasks?claimed=me", user="huyen_a_specialist2").json["items"] == []
    r = api.post(f"/api/v1/tasks/{item_id}/complete", user="huyen_a_specialist2", json={"data": {"outcome": "approve"}})
    assert r.status_code == 409


# --- comments -------------------------------------------------------------------------------------


def test_comments_in_time_order_mentions_notified_and_kept_off_the_slips(api, world, db) -> None:
    code, _item_id = district_step(api, world)
    r = api.post(f"/api/v1/cases/{code}/comments", user="huyen_a_specialist",
                 json={"text": "Xã kiểm tra lại giấy báo tử giúp", "mentions": ["xa_a1_specialist"]})
    assert r.status_code == 201, r.json
    r2 = api.post(f"/api/v1/cases/{code}/comments", user="xa_a1_specialist", json={"text": "Đã kiểm tra, đúng."})
    assert r2.status_code == 201
    items = api.get(f"/api/v1/cases/{code}/comments", user="xa_a1_clerk").json["items"]
    assert [c["text"] for c in items] == ["Xã kiểm tra lại giấy báo tử giúp", "Đã kiểm tra, đúng."]
    assert items[0]["mentions"] == ["xa_a1_specialist"]
    assert any("nhắc bạn" in m and code in m for m in notes_of(db, "xa_a1_specialist"))
    with db.transaction() as s:
        rows = control_rows(s, s.scalar(select(Case).where(Case.code == code)))
    assert "giấy báo tử giúp" not in " ".join(f"{r.note} {r.actor}" for r in rows)
    # Mentions are limited to the case's path; strangers cannot read or write.
    r = api.post(f"/api/v1/cases/{code}/comments", user="huyen_a_specialist",
                 json={"text": "x", "mentions": ["xa_b1_specialist"]})
    assert r.status_code == 422 and r.json["details"] == {"mentions": ["xa_b1_specialist"]}
    assert api.get(f"/api/v1/cases/{code}/comments", user="xa_b1_clerk").status_code == 404
    assert api.post(f"/api/v1/cases/{code}/comments", user="xa_b1_clerk", json={"text": "x"}).status_code == 404
    r = api.post(f"/api/v1/cases/{code}/comments", user="huyen_a_specialist", json={"text": "   "})
    assert r.status_code == 422 and "text" in r.json["details"]


def test_deputy_takes_the_officials_claimable_steps_until_the_range_ends_by_itself(api, world, db) -> None:
    """The clerk, who holds no specialist role, stands in for the specialist: they see the unit's unclaimed
    specialist step, take it and complete it "thay mặt"; once the range is over they see and take nothing."""
    from engine.models import Delegation

    code, item_id = district_step(api, world)
    assert item_id not in [t["id"] for t in api.get("/api/v1/tasks", user="huyen_a_clerk").json["items"]]
    r = api.post("/api/v1/delegations", user="huyen_a_specialist",
                 json={"to": "huyen_a_clerk", "starts": today_text(), "until": today_text(1)})
    assert r.status_code == 201, r.json
    delegation_id = r.json["id"]
    open_ones = api.get("/api/v1/tasks?claimed=none", user="huyen_a_clerk").json["items"]
    assert item_id in [t["id"] for t in open_ones]
    assert api.post(f"/api/v1/tasks/{item_id}/claim", user="huyen_a_clerk").status_code == 200
    r = api.post(f"/api/v1/tasks/{item_id}/complete", user="huyen_a_clerk", json={"data": {"outcome": "approve"}})
    assert r.status_code == 200, r.json
    done = [e for e in api.get(f"/api/v1/cases/{code}", user="huyen_a_head").json["events"]
            if e["kind"] == "task_completed" and e["actor"] == "huyen_a_clerk"]
    assert done and done[-1]["data"]["on_behalf_of"] == "huyen_a_specialist"
    # The range passes (nobody revokes it): the next step of the unit is out of the clerk's reach.
    _code2, item2 = district_step(api, world)
    with db.transaction() as s:
        row = s.get(Delegation, delegation_id)
        row.starts = (utcnow().astimezone(VN_TZ) - timedelta(days=5)).date()
        row.until = (utcnow().astimezone(VN_TZ) - timedelta(days=1)).date()
    assert item2 not in [t["id"] for t in api.get("/api/v1/tasks", user="huyen_a_clerk").json["items"]]
    assert api.get("/api/v1/delegations", user="huyen_a_clerk").json["items"] == []
    assert api.get("/api/v1/delegations", user="huyen_a_head").json["items"] == []
    assert api.post(f"/api/v1/tasks/{item2}/claim", user="huyen_a_clerk").status_code in (403, 409)


def test_an_assignment_racing_a_claim_is_never_lost(world, db) -> None:
    """The head gives the step to one specialist while the other claims it, at the same moment (twenty times):
    the head's choice always stands, recorded once; the claim either came first and was reassigned, or lost
    with a Conflict naming the assignee."""
    from engine import assignment, tasks
    from engine.errors import Conflict
    from engine.models import Event, WorkItem
    from tests.helpers import at_once

    second_specialist(db)
    for _ in range(20):
        code = world.receive()
        item_id = None
        for _step in range(5):
            item_id, unit, _role = world.open_item(code)
            if unit == "HUYEN_A":
                break
            world.complete_next(code)

        def give(item_id: int = item_id) -> str:
            with db.transaction() as s:
                assignment.assign(s, world.user(s, "huyen_a_head"), item_id, "huyen_a_specialist2")
                return "ok"

        def take(item_id: int = item_id) -> str:
            with db.transaction() as s:
                tasks.claim(s, world.user(s, "huyen_a_specialist"), item_id)
                return "ok"

        given, taken = at_once(give, take)
        assert given == "ok"
        assert taken == "ok" or (isinstance(taken, Conflict) and "Trần Thị Bình" in taken.message), taken
        with db.transaction() as s:
            assert s.get(WorkItem, item_id).claimed_by.username == "huyen_a_specialist2"
            kinds = [e.kind for e in s.scalars(select(Event).where(Event.case_id == s.get(WorkItem, item_id).case_id,
                                                                    Event.kind.in_(["assigned", "claimed"])))]
            assert kinds.count("assigned") == 1 and kinds.count("claimed") == (1 if taken == "ok" else 0)


def test_two_officials_naming_each_other_at_once_make_no_chain(world, db) -> None:
    """A→B and B→A for the same days, sent at the same moment (ten times): one stands, the other is refused."""
    from engine import delegation
    from engine.models import Delegation
    from tests.helpers import at_once

    second_specialist(db)
    pair = ("huyen_a_specialist", "huyen_a_specialist2")
    for _ in range(10):
        def name(who: str, to: str) -> str:
            with db.transaction() as s:
                delegation.create(s, world.user(s, who), to, today_text(), today_text(1))
                return "ok"

        results = at_once(lambda: name(*pair), lambda: name(*reversed(pair)))
        assert sorted("ok" if r == "ok" else type(r).__name__ for r in results) == ["Conflict", "ok"], results
        with db.transaction() as s:
            rows = list(s.scalars(select(Delegation).where(Delegation.revoked_at.is_(None))))
            assert len(rows) == 1
            rows[0].revoked_at = utcnow()  # clear the way for the next round
