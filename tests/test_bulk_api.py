"""Bulk work through the JSON API on SQLite and PostgreSQL: claim several steps (the ones held by someone
else are reported, the rest claimed), print several receipts or control slips as one PDF, export to Excel."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader


def test_claim_several_steps_reports_those_held_by_others(api, world) -> None:
    codes = [world.receive() for _ in range(3)]
    ids = [world.open_item(c)[0] for c in codes]
    # The specialist already holds the second step: claiming it again in the batch is no error.
    assert api.post(f"/api/v1/tasks/{ids[1]}/claim", user="xa_a1_specialist").status_code == 200
    r = api.post("/api/v1/tasks/claim", user="xa_a1_specialist", json={"ids": ids})
    assert r.status_code == 200, r.json
    assert sorted(t["id"] for t in r.json["claimed"]) == sorted(ids)  # one's own claim counts as claimed
    r = api.post("/api/v1/tasks/claim", user="xa_a1_leader", json={"ids": ids})
    assert r.json["claimed"] == [] and {x["id"] for x in r.json["refused"]} == set(ids)
    mine = api.get("/api/v1/tasks?claimed=me", user="xa_a1_specialist").json["items"]
    assert sorted(t["id"] for t in mine) == sorted(ids)
    r = api.post("/api/v1/tasks/claim", user="xa_a1_specialist", json={"ids": []})
    assert r.status_code == 422 and "ids" in str(r.json["details"])


def test_receipts_of_several_cases_in_one_pdf_and_the_list_in_excel(api, world) -> None:
    codes = [world.receive(applicant={"name": f"Người nộp {i}"}) for i in range(3)]
    r = api.post("/api/v1/cases/slips", user="xa_a1_clerk", json={"codes": codes, "slip": "01"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.data))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    assert all(code in text for code in codes) and len(reader.pages) >= 3
    r = api.post("/api/v1/cases/slips", user="xa_a1_clerk", json={"codes": codes[:2], "slip": "05"})
    assert r.status_code == 200 and all(c in " ".join(p.extract_text() or "" for p in
                                                       PdfReader(io.BytesIO(r.data)).pages) for c in codes[:2])
    r = api.post("/api/v1/cases/export", user="xa_a1_clerk", json={"codes": list(reversed(codes))})
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Mã hồ sơ" and [row[0] for row in rows[1:]] == list(reversed(codes))
    assert rows[1][1] == "Người nộp 2"


def test_bulk_refuses_cases_one_cannot_see_and_unknown_slips(api, world) -> None:
    code = world.receive()
    assert api.post("/api/v1/cases/slips", user="xa_b1_clerk", json={"codes": [code], "slip": "01"}).status_code == 404
    assert api.post("/api/v1/cases/export", user="xa_b1_clerk", json={"codes": [code]}).status_code == 404
    r = api.post("/api/v1/cases/slips", user="xa_a1_clerk", json={"codes": [code], "slip": "03"})
    assert r.status_code == 422 and "slip" in str(r.json["details"])
