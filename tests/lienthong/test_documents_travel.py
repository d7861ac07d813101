"""Documents travel with the khai tử case: the commune's scans arrive at the police and the paying agency
byte-identical, and bytes that do not match the hash the message names are refused (the message stays
queued, nothing is created at the receiver) until the sender's file is right again."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import control_slip, documents
from engine.db import Database
from engine.models import Case, Document, Event, InboxMessage, OutboxMessage, User
from tests.lienthong.test_khai_tu_orchestration import DECEASED, Network, _receive

TO_KHAI = b"%PDF-1.4\n% to khai tu cua ba Tran Thi Hoa\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
GIAY_BAO_TU = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"giay bao tu").digest() * 300


@pytest.fixture
def net(db: Database, tmp_path: Path, sqlite_template: Path):
    n = Network(tmp_path, db, sqlite_template)
    yield n
    n.dispose()


def _attach(net, code: str) -> dict[str, Document]:
    root = net.tmp / "A" / "instance" / "documents"
    with net.dbs["A"].transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        for doc_code, name, data in (("to_khai", "to-khai-khai-tu.pdf", TO_KHAI),
                                     ("giay_bao_tu", "giấy báo tử.png", GIAY_BAO_TU)):
            documents.store(s, root, case, None, name, io.BytesIO(data), 10 << 20, doc_code=doc_code)
    return {"to_khai": TO_KHAI, "giay_bao_tu": GIAY_BAO_TU}


def _documents_at(net, name: str, code: str) -> dict[str, bytes]:
    root = net.tmp / name / "instance" / "documents"
    with net.dbs[name].transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return {d.doc_code: (root / d.storage_path).read_bytes() for d in documents.for_case(s, case)}


def test_the_communes_documents_arrive_byte_identical_at_both_partners(net):
    code = _receive(net, DECEASED)
    sent = _attach(net, code)
    net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "15/2026/TLKT"})
    assert len(net.dispatch("A").delivered) == 2

    for other in ("B", "C"):
        other_code = net.linked_case(other)
        assert _documents_at(net, other, other_code) == sent  # the same bytes, under the same codes
        with net.dbs[other].transaction() as s:
            case = s.scalar(select(Case).where(Case.code == other_code))
            event = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "lienthong_received"))
            listed = {d["code"]: d for d in event.data["documents"]}
            assert listed["to_khai"]["sha256"] == hashlib.sha256(TO_KHAI).hexdigest()
            assert all("content" not in d and d["document_id"] for d in listed.values())  # no bytes in audit
            names = {d.filename for d in documents.for_case(s, case)}
            assert names == {"to-khai-khai-tu.pdf", "giấy báo tử.png"}  # what the official opens there


def test_bytes_that_do_not_match_the_hash_are_refused_and_the_message_stays_queued(net):
    code = _receive(net, DECEASED)
    _attach(net, code)
    net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "15/2026/TLKT"})
    stored = net.tmp / "A" / "instance" / "documents"
    path = next(p for p in stored.rglob("*.pdf"))
    path.write_bytes(TO_KHAI.replace(b"Tran Thi Hoa", b"Tran Van Gia"))  # changed after its hash was taken

    report = net.dispatch("A")
    assert report.delivered == [] and len(report.failed) == 2
    with net.dbs["A"].transaction() as s:
        errors = [m.last_error for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert errors == ["HTTP 422", "HTTP 422"]
        failed = s.scalars(select(Event.kind).join(Case).where(Case.code == code,
                                                               Event.kind == "lienthong_failed")).all()
        assert len(failed) == 2  # the desk sees the failure on the case
    for other in ("B", "C"):
        with net.dbs[other].transaction() as s:
            assert s.scalars(select(InboxMessage)).all() == []  # refused whole: retryable, not half-applied
            assert s.scalars(select(Case)).all() == []
            assert s.scalars(select(Document)).all() == []

    path.write_bytes(TO_KHAI)  # the sender's file is right again: the next attempt goes through
    with net.dbs["A"].transaction() as s:
        for m in s.scalars(select(OutboxMessage)):
            m.next_attempt_at = m.created_at
    assert len(net.dispatch("A").delivered) == 2
    assert _documents_at(net, "B", net.linked_case("B"))["to_khai"] == TO_KHAI


def test_a_case_a_partner_sends_is_received_by_that_system_not_by_a_clerk(net):
    code = _receive(net, DECEASED)
    net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "15/2026/TLKT"})
    net.dispatch("A")
    b_code = net.linked_case("B")
    with net.dbs["B"].transaction() as s:
        case = s.scalar(select(Case).where(Case.code == b_code))
        receiver = s.get(User, case.received_by_id)
        assert receiver.full_name == "Hệ thống A" and not receiver.active  # can never log in
        received = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "received"))
        assert received.actor_id == receiver.id
        first = control_slip.control_rows(s, case)[0]
        assert "Hệ thống A" in first.giver + first.receiver
        assert "xa_a1_clerk" not in first.giver + first.receiver
