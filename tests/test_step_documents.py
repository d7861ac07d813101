"""Documents attached at a step: by the official holding that open step only, checked like reception scans,
linked to the step in the case file, required when the step says so, and on disk only once the transaction
commits (a failed request leaves no file behind)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import documents
from engine.models import Case, Document
from tests.test_three_level_case_api import receive, user_for

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _task(api: Any, code: str) -> dict:
    return api.get(f"/api/v1/cases/{code}", "xa_a1_clerk").get_json()["tasks"][0]


def _upload(api: Any, user: str, code: str, step: int, body: bytes = PDF, name: str = "danh-sach.pdf",
            result: bool = False) -> Any:
    return api.post(f"/api/v1/cases/{code}/documents", user, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(body), name), "step": str(step), "result": "true" if result else ""})


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_holder_attaches_a_document_that_the_case_file_links_to_its_step(api: Any) -> None:
    code = receive(api)["code"]
    task = _task(api, code)
    resp = _upload(api, user_for(task), code, task["id"])
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["task"] == task["id"] and doc["result"] is False and len(doc["sha256"]) == 64
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task),
                    json={"data": {"outcome": "approve"}, "documents": [doc["id"]]})
    assert done.status_code == 200, done.get_json()
    steps = api.get(f"/api/v1/cases/{code}", "xa_a1_clerk").get_json()["steps"]
    assert steps[0]["bpmn_id"] == "commune_review" and steps[0]["completed_by"] == user_for(task)
    assert steps[0]["documents"] == [{"id": doc["id"], "name": "danh-sach.pdf", "sha256": doc["sha256"],
                                      "size": len(PDF), "result": False}]
    root = api.app.config["MOTCUA"].documents_path
    assert [p.name for p in _files(root)] == [f"{doc['sha256']}.pdf"]


def test_others_cannot_attach_and_bad_files_are_refused_naming_the_file(api: Any) -> None:
    code = receive(api)["code"]
    task = _task(api, code)
    assert _upload(api, "xa_a1_leader", code, task["id"]).status_code == 403  # same unit, not the step's role
    assert _upload(api, "xa_b1_specialist", code, task["id"]).status_code == 404  # cannot even see the case
    bad = _upload(api, user_for(task), code, task["id"], body=b"MZ\x90\x00 not a pdf", name="virus.exe")
    assert bad.status_code == 422 and bad.get_json()["details"] == {"file": "virus.exe"}
    assert _upload(api, user_for(task), code, 0).status_code == 404
    assert _files(api.app.config["MOTCUA"].documents_path) == []


def test_listing_a_document_of_another_step_is_422_naming_documents(api: Any) -> None:
    code = receive(api)["code"]
    task = _task(api, code)
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task),
                    json={"data": {"outcome": "approve"}, "documents": [987654]})
    assert resp.status_code == 422 and "documents" in resp.get_json()["details"]


def test_a_failed_transaction_leaves_no_file_and_a_committed_one_does(db: Any, world: Any, tmp_path: Path) -> None:
    code = world.receive()
    root = tmp_path / "documents"
    with pytest.raises(RuntimeError), db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        documents.store(s, root, case, None, "scan.pdf", io.BytesIO(PDF), 1 << 20)
        raise RuntimeError("the request failed after the upload")
    assert _files(root) == []
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        doc = documents.store(s, root, case, None, "scan.pdf", io.BytesIO(PDF), 1 << 20)
        assert not (root / doc.storage_path).exists()  # not before the commit
    with db.transaction() as s:
        doc = s.scalar(select(Document).where(Document.filename == "scan.pdf"))
        assert (root / doc.storage_path).read_bytes() == PDF
    assert [p.name for p in _files(root)] == [f"{doc.sha256}.pdf"]
