"""A three-level case (trợ cấp mai táng người có công) goes commune → district → province → back to the
commune desk through the JSON API, each step done by the right users, invisible to the wrong ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.models import Case

APPLICANT = {"name": "Trần Thị Bình", "id_number": "036185004321", "address": "Thôn Đông, xã An Phú",
             "phone": "0987654321", "email": "binh@example.vn"}


def receive(api: Any, user: str = "xa_a1_clerk", **extra: Any) -> dict:
    resp = api.post("/api/v1/cases", user, json={"procedure": "ncc_mai_tang", "applicant": APPLICANT,
                                                  "channel": "desk", **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def user_for(task: dict) -> str:
    return f"{task['unit'].lower()}_{task['role']}"


def test_case_travels_up_three_levels_and_back(api: Any) -> None:
    case = receive(api)
    code = case["code"]
    assert code.startswith("000.31.31.H99-") and len(code.split("-")[-1]) == 4
    assert case["status_code"] == 2 and case["due_at"]
    assert [t["unit"] for t in case["tasks"]] == ["XA_A1"]

    units_seen = []
    for _ in range(20):
        tasks = api.get(f"/api/v1/cases/{code}", "xa_a1_clerk").get_json()["tasks"]
        if not tasks:
            break
        task = tasks[0]
        units_seen.append(task["unit"])
        # The task sits in exactly that user's inbox.
        inbox = api.get("/api/v1/tasks", user_for(task)).get_json()["items"]
        assert task["id"] in [i["id"] for i in inbox]
        resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task), json={"data": {"outcome": "approve"}})
        assert resp.status_code == 200, resp.get_json()
    final = api.get(f"/api/v1/cases/{code}", "xa_a1_clerk").get_json()
    assert final["status_code"] == 10 and final["status"] == "Đã trả kết quả"
    assert final["result"] == "approved"
    # The path went up through the district and the province, and ended at the desk that received it.
    assert "HUYEN_A" in units_seen and "TINH" in units_seen
    assert units_seen.index("HUYEN_A") < units_seen.index("TINH")
    assert units_seen[-1] == "XA_A1"
    handovers = [e for e in final["events"] if e["kind"] == "handover"]
    assert [h["to_unit"] for h in handovers] == units_seen


def test_wrong_commune_and_other_district_cannot_see_or_act(api: Any) -> None:
    case = receive(api)
    code, task = case["code"], case["tasks"][0]
    for outsider in ("xa_b1_clerk", "xa_a2_specialist", "huyen_b_specialist"):
        resp = api.get(f"/api/v1/cases/{code}", outsider)
        assert resp.status_code == 404, outsider
        assert resp.get_json()["error"] == "not_found"
        assert task["id"] not in [i["id"] for i in api.get("/api/v1/tasks", outsider).get_json()["items"]]
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", outsider, json={"data": {"outcome": "approve"}})
        assert done.status_code == 404
    # Same unit, wrong role: visible, but not theirs to complete.
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", "xa_a1_leader", json={"data": {"outcome": "approve"}})
    assert resp.status_code == 403


def test_second_completion_is_409_naming_who_did_it(api: Any) -> None:
    case = receive(api)
    task = case["tasks"][0]
    user = user_for(task)
    first = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"data": {"outcome": "approve"}})
    assert first.status_code == 200
    again = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"data": {"outcome": "approve"}})
    assert again.status_code == 409
    body = again.get_json()
    assert body["error"] == "conflict" and body["details"]["completed_by"] == user
    assert "đã được" in body["message"] and "hoàn thành lúc" in body["message"]


def test_bad_form_data_is_422_and_changes_nothing(api: Any) -> None:
    case = receive(api)
    task = case["tasks"][0]
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task), json={"data": {"outcome": "maybe"}})
    assert resp.status_code == 422
    assert "outcome" in resp.get_json()["details"]
    after = api.get(f"/api/v1/cases/{case['code']}", "xa_a1_clerk").get_json()
    assert [t["id"] for t in after["tasks"]] == [task["id"]]
    assert not [e for e in after["events"] if e["kind"] == "task_completed"]


def test_public_lookup_reveals_status_only(api: Any) -> None:
    case = receive(api)
    with api.db.transaction() as s:
        secret = s.scalar(select(Case.lookup_secret).where(Case.code == case["code"]))
    resp = api.post(f"/api/v1/public/cases/{case['code']}", json={"secret": secret})
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"code", "status", "status_code", "due_at"}
    assert APPLICANT["name"] not in resp.get_data(as_text=True)
    assert api.post("/api/v1/public/cases/000.31.31.H99-990101-9999", json={"secret": secret}).status_code == 404
    # The code alone answers nothing.
    assert api.post(f"/api/v1/public/cases/{case['code']}", json={}).status_code == 422
    assert api.get(f"/api/v1/public/cases/{case['code']}").status_code == 405


def test_api_errors_are_json(api: Any) -> None:
    assert api.get("/api/v1/tasks").get_json()["error"] == "unauthorized"
    resp = api.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.is_json
    assert api.get("/api/v1/no-such-thing", "xa_a1_clerk").get_json()["error"] == "not_found"
    bad = api.post("/api/v1/cases", "xa_a1_clerk", data="not json", content_type="application/json")
    assert bad.status_code == 422 and bad.is_json
    unknown = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "nope", "applicant": APPLICANT})
    assert unknown.status_code == 404 and unknown.is_json
    no_name = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "ncc_mai_tang", "applicant": {}})
    assert no_name.status_code == 422


def test_inbox_is_ordered_by_due_date_and_keyset_paginated(api: Any) -> None:
    codes = [receive(api)["code"] for _ in range(5)]
    user = user_for(api.get(f"/api/v1/cases/{codes[0]}", "xa_a1_clerk").get_json()["tasks"][0])
    seen, after = [], None
    while True:
        query = {"limit": 2, **({"after": after} if after else {})}
        page = api.get("/api/v1/tasks", user, query_string=query).get_json()
        seen.extend(page["items"])
        after = page["next"]
        if not after:
            break
    assert sorted(i["case_code"] for i in seen) == sorted(codes)
    assert [i["due_at"] for i in seen] == sorted(i["due_at"] for i in seen)
    assert len({i["id"] for i in seen}) == 5


def test_openapi_document_lists_the_endpoints(api: Any) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/cases", "/api/v1/cases/{code}", "/api/v1/tasks", "/api/v1/tasks/{id}/complete",
                 "/api/v1/public/cases/{code}", "/api/v1/procedures"):
        assert path in doc["paths"], path
