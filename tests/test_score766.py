"""The province's QĐ 766 indices from motcua's own data, on SQLite and PostgreSQL: on time with the
supplement rules, average time, online with an e-result, e-results, digitised dossiers and satisfaction,
each with its formula and the cases that cost points; scoped to the caller's unit subtree."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.models import Case, Document, Rating, User, utcnow
from engine.status import Status, set_status

QUERY = "/api/v1/reports/766?from=2026-01-01&to=2026-12-31"


def _case(s, code: str) -> Case:
    return s.scalar(select(Case).where(Case.code == code))


def _doc(s, case: Case, code: str | None) -> None:
    s.add(Document(case_id=case.id, doc_code=code, filename="x.pdf", content_type="application/pdf", size=1,
                   sha256="0" * 64, storage_path="x"))


def scenario(world, db) -> dict[str, str]:
    """Five cases at xã An Phú: resolved on time with scans and an e-result (online); resolved late; open
    and overdue; open in time but supplemented twice; open in time and rated unhappy."""
    names = ["good", "late", "overdue", "twice", "unhappy"]
    codes = {n: world.receive(channel="online" if n == "good" else "desk") for n in names}
    now = utcnow()
    with db.transaction() as s:
        good, late = _case(s, codes["good"]), _case(s, codes["late"])
        _doc(s, good, "ban_khai")
        _doc(s, good, "ket_qua")
        set_status(s, good, Status.RESOLVED, at=now)
        late.original_due_at = late.due_at = now - timedelta(days=1)
        set_status(s, late, Status.RESOLVED, at=now)
        _case(s, codes["overdue"]).due_at = now - timedelta(hours=1)
        _case(s, codes["overdue"]).original_due_at = now - timedelta(hours=1)
        _case(s, codes["twice"]).supplement_count = 2
        s.add(Rating(case_id=_case(s, codes["unhappy"]).id, scores={"thai_do": 0}))
    return codes


def test_the_six_indices_with_formulas_and_the_cases_that_cost_points(api, world, db) -> None:
    codes = scenario(world, db)
    r = api.get(QUERY, user="huyen_a_head")
    assert r.status_code == 200, r.json
    idx = {i["code"]: i for i in r.json["indices"]}
    assert list(idx) == ["2.1", "2.2", "3.3", "4.1", "4.2", "5.4"]
    assert all(i["formula"] for i in idx.values())
    on_time = idx["2.1"]
    assert (on_time["numerator"], on_time["denominator"], on_time["value"]) == (2, 5, 40.0)
    assert sorted(on_time["costs"]) == sorted([codes["late"], codes["overdue"], codes["twice"]])
    assert idx["2.2"]["denominator"] == 2 and idx["2.2"]["costs"] == [codes["late"]]
    assert (idx["3.3"]["numerator"], idx["3.3"]["denominator"], idx["3.3"]["value"]) == (1, 5, 20.0)
    assert idx["3.3"]["meets"] is False
    assert (idx["4.1"]["numerator"], idx["4.1"]["denominator"], idx["4.1"]["value"]) == (1, 2, 50.0)
    assert idx["4.1"]["costs"] == [codes["late"]]
    assert (idx["4.2"]["numerator"], idx["4.2"]["value"]) == (1, 20.0)
    # 5.4 = 100 − (60 % late + 20 % unhappy) = 20 %
    assert idx["5.4"]["value"] == 20.0 and codes["unhappy"] in idx["5.4"]["costs"]
    assert [p["procedure"] for p in r.json["by_procedure"]] == ["ncc_mai_tang"]


def test_766_is_scoped_and_for_report_readers(api, world, db) -> None:
    scenario(world, db)
    other = api.get(QUERY, user="huyen_b_head").json
    assert {i["code"]: i["denominator"] for i in other["indices"]}["2.1"] == 0
    assert api.get(QUERY, user="xa_a1_specialist").status_code == 403
    assert api.get(QUERY + "&unit=HUYEN_A", user="huyen_b_head").status_code == 403
    assert api.get("/api/v1/reports/766?from=2026-13-01", user="huyen_a_head").status_code == 422


def test_2_1_judges_at_the_period_end_subtracts_the_citizens_time_and_counts_stops(api, world, db) -> None:
    """November's first half (a past period): a case resolved late on 25/11 was still in time on 15/11; a case
    whose appointment restarted after the citizen's one supplement is judged by the new appointment; a case
    stopped after its appointment is late by its stop moment; an open case past its appointment is late."""
    from engine import stop
    from tests.conftest import at

    names = ["after", "supplemented", "stopped", "overdue"]
    codes = {n: world.receive(received_at=at("2026-11-02 08:00")) for n in names}
    with db.transaction() as s:
        after, supplemented = _case(s, codes["after"]), _case(s, codes["supplemented"])
        stopped, overdue = _case(s, codes["stopped"]), _case(s, codes["overdue"])
        after.original_due_at = after.due_at = at("2026-11-20 17:00")
        set_status(s, after, Status.RESOLVED, at=at("2026-11-25 10:00"))
        # One supplement: the appointment restarted when the citizen completed the dossier (their time subtracted).
        supplemented.supplement_count = 1
        supplemented.original_due_at = supplemented.due_at = at("2026-11-20 17:00")
        set_status(s, supplemented, Status.RESOLVED, at=at("2026-11-13 10:00"))
        stopped.original_due_at = stopped.due_at = at("2026-11-05 17:00")
        overdue.original_due_at = overdue.due_at = at("2026-11-10 17:00")
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        stop.request_stop(s, clerk, stopped, "Công dân xin dừng", now=at("2026-11-09 09:00"))
    half = api.get("/api/v1/reports/766?from=2026-11-01&to=2026-11-15", user="huyen_a_head").json
    on_time = {i["code"]: i for i in half["indices"]}["2.1"]
    assert (on_time["numerator"], on_time["denominator"]) == (2, 4)
    assert sorted(on_time["costs"]) == sorted([codes["stopped"], codes["overdue"]])
    # Over the whole month the late resolution is counted as it happened.
    month = api.get("/api/v1/reports/766?from=2026-11-01&to=2026-11-30", user="huyen_a_head").json
    on_time = {i["code"]: i for i in month["indices"]}["2.1"]
    assert sorted(on_time["costs"]) == sorted([codes["after"], codes["stopped"], codes["overdue"]])
    # A stop before the period is not judged in it.
    december = api.get("/api/v1/reports/766?from=2026-12-01&to=2026-12-31", user="huyen_a_head").json
    assert codes["stopped"] not in {i["code"]: i for i in december["indices"]}["2.1"]["costs"]
