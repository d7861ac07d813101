"""The national portal delivers online dossiers (since 1 July 2025 citizens submit online only through the
Cổng Dịch vụ công quốc gia): a signed message of kind `dossier` from a partner of kind `portal` becomes an
online case in status 1 (Mới đăng ký) at the desk it names, exactly as if submitted on motcua's own public
form (engine.public.submit_online) — a clerk then accepts it and the time limit starts. Its documents arrive
inside the message and are checked against their SHA-256 first (engine.lienthong_documents).

Exactly once: the inbox stores each message id once (a retried message is acknowledged again and changes
nothing), and the portal's own dossier code is linked to the case (CaseLink), so the same dossier sent again
under a new message id returns the case already here."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lienthong_documents
from engine.errors import Forbidden, Invalid
from engine.lienthong_documents import Files
from engine.models import Case, CaseLink, Partner

KIND = "dossier"


def receive_dossier(session: Session, partner: Partner, body: dict, message: str, now: datetime,
                    files: Files | None) -> Case:
    from engine.public import Upload, submit_online

    if partner.kind != "portal":
        raise Forbidden.of("portal_only", details={"sender": partner.code})
    dossier = body.get("dossier")
    if not isinstance(dossier, dict) or not str(dossier.get("code") or "").strip():
        raise Invalid.of("portal_case_code_missing", details={"dossier.code": "required"})
    portal_code = str(dossier["code"])[:64]
    earlier = session.scalar(select(CaseLink.case_id).where(CaseLink.origin_system == partner.code,
                                                            CaseLink.origin_case_code == portal_code))
    if earlier is not None:
        return session.get(Case, earlier)
    if files is None:
        raise Invalid.of("storage_not_configured", details={"documents": "no storage"})
    docs = body.get("documents") or []
    uploads = []
    for i, doc in enumerate(docs):
        name, data = lienthong_documents.verified(i, doc)  # before anything is stored
        uploads.append(Upload(str(doc.get("code") or "") or None, name, io.BytesIO(data)))
    case = submit_online(session, str(dossier.get("procedure") or ""), str(dossier.get("unit_code") or ""),
                         body.get("applicant") or {}, body.get("data") or {}, uploads, files.root, files.max_bytes,
                         now=now, competent_unit=dossier.get("competent_unit") or None)
    session.add(CaseLink(case_id=case.id, origin_system=partner.code, origin_case_code=portal_code,
                         message=message[:100]))
    session.flush()
    return case
