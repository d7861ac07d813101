"""The national portal delivers online dossiers: a signed `dossier` message from the portal partner becomes
a status-1 (Mới đăng ký) online case at the desk it names, with its documents byte-identical, waiting for the
clerk to accept it; the same message again (a lost acknowledgement) or the same dossier under a new message
id creates nothing more; a system that is not the portal cannot deliver dossiers."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from sqlalchemy import func, select

from engine import documents, partners, public
from engine.db import Database
from engine.models import Case, CaseLink, Partner, User

SCAN = b"%PDF-1.4\n% to khai lien thong nop tren Cong DVC quoc gia\n" + bytes(range(200)) * 30 + b"\n%%EOF\n"


def _dossier(portal_code: str = "G22.99-261201-000123", content: bytes = SCAN) -> dict:
    return {"kind": "dossier", "message": "nop_ho_so_truc_tuyen",
            "dossier": {"code": portal_code, "procedure": "lien_thong_khai_tu", "unit_code": "XA_A1"},
            "applicant": {"name": "Trần Thị Hoa", "id_number": "036080002222", "phone": "0912345678"},
            "data": {"ho_ten_nguoi_chet": "Trần Văn Bình", "ngay_chet": "2026-11-28"},
            "documents": [{"code": "to_khai", "filename": "to-khai.pdf", "content_type": "application/pdf",
                           "sha256": hashlib.sha256(SCAN).hexdigest(),
                           "content": base64.b64encode(content).decode()},
                          {"code": "giay_bao_tu", "filename": "giay-bao-tu.pdf", "content_type": "application/pdf",
                           "sha256": hashlib.sha256(SCAN).hexdigest(), "content": base64.b64encode(SCAN).decode()}]}


def _setup(db: Database, tmp_path: Path, kind: str = "portal") -> partners.Identity:
    ident = partners.ensure_identity(tmp_path / "portal", "DVCQG")
    with db.transaction() as s:
        partners.add_partner(s, "DVCQG", "Cổng Dịch vụ công quốc gia", "http://dvcqg.invalid", kind, ident.secret)
    return ident


def _post(api, ident: partners.Identity, body: dict, message_id: str | None = None):
    text, headers = partners.signed_request(ident, message_id or partners.new_message_id(), body)
    return api.client.post("/api/v1/lienthong/messages", data=text, headers=headers)


def test_a_dossier_the_portal_delivers_waits_at_the_chosen_desk_as_status_1(api, db, tmp_path):
    ident = _setup(db, tmp_path)
    resp = _post(api, ident, _dossier(), "msg_portal_1")
    assert resp.status_code == 200 and resp.json["status"] == "accepted", resp.json
    code = resp.json["case_code"]
    again = _post(api, ident, _dossier(), "msg_portal_1")  # acknowledgement lost: the portal sends again
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    renewed = _post(api, ident, _dossier())  # the same dossier under a new message id
    assert renewed.status_code == 200 and renewed.json["case_code"] == code
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        case = s.scalar(select(Case).where(Case.code == code))
        assert (case.status_code, case.channel, case.receiving_unit.code) == (1, "online", "XA_A1")
        assert case.applicant_name == "Trần Thị Hoa" and case.state is None  # not started: the clerk accepts
        link = s.get(CaseLink, case.id)
        assert (link.origin_system, link.origin_case_code) == ("DVCQG", "G22.99-261201-000123")
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        assert [c.code for c in public.pending_online(s, clerk)] == [code]  # on the desk's online queue
        doc = documents.for_case(s, case)[0]
        root = api.app.config["MOTCUA"].documents_path
        _doc, path = documents.open_document(s, root, case, doc.id)
        assert path.read_bytes() == SCAN


def test_a_tampered_document_or_a_system_that_is_not_the_portal_is_refused(api, db, tmp_path):
    ident = _setup(db, tmp_path)
    tampered = _post(api, ident, _dossier(content=SCAN.replace(b"quoc gia", b"QUOC GIA")))
    assert tampered.status_code == 422 and "documents[0].sha256" in tampered.json["details"]
    missing_desk = _dossier("G22.99-261201-000124")
    missing_desk["dossier"]["unit_code"] = "KHONG_CO"
    assert _post(api, ident, missing_desk).status_code == 422
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        s.get(Partner, "DVCQG").kind = "system"
    assert _post(api, ident, _dossier()).status_code == 403
