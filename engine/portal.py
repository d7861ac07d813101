"""The national portal (Cổng Dịch vụ công quốc gia) sees every status: each status change of every case is
queued, in the transaction that changes it (engine.status.set_status calls `status_changed`), to every
partner of kind `portal`, through the liên thông outbox — so in order per case, and exactly once at a
receiver that de-duplicates message ids. The envelope (docs/lien-thong.md) carries motcua's own fields and
the portal's field names where they are public (OpenCPS DVCQGIntegrationActionImpl: DongBoHoSoMC for the
dossier, CapNhatTienDoHoSoMC for the progress)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.calendar import VN_TZ
from engine.models import Case

MESSAGE = "trang_thai_ho_so"
# HinhThuc of DongBoHoSoMC: 0 at the desk / online, 1 through the public postal service.
HINH_THUC = {"desk": "0", "online": "0", "post": "1"}


def _dvcqg_time(moment: datetime | None) -> str:
    """yyyyMMddHHmmss in Vietnam time, as the OpenCPS client formats dates for the portal."""
    return moment.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S") if moment else ""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def envelope(case: Case, previous: int | None, status: int, at: datetime) -> dict:
    proc = case.procedure
    unit = case.receiving_unit
    catalog = proc.catalog or {}
    data = case.data or {}
    return {
        "v": 1, "kind": "status",
        "case": {"code": case.code, "procedure": proc.code, "procedure_name": proc.name,
                 "agency_code": unit.agency_code if unit else None, "unit_code": unit.code if unit else None,
                 "channel": case.channel, "received_at": _iso(case.received_at), "due_at": _iso(case.due_at),
                 "resolved_at": _iso(case.resolved_at), "returned_at": _iso(case.returned_at)},
        "status": {"from": previous, "to": status, "at": at.isoformat()},
        # QĐ 766/QĐ-TTg indicators, when the case data records them (None: not known to motcua)
        "indicators": {"online_payment": data.get("online_payment"), "digitised": data.get("digitised"),
                       "e_result_url": data.get("e_result_url"), "vneid_verified": data.get("vneid_verified")},
        "dvcqg": {
            "DongBoHoSoMC": {"MaHoSo": case.code, "MaTTHC": catalog.get("national_code") or proc.code,
                             "TenTTHC": proc.name, "TenLinhVuc": proc.field, "ChuHoSo": case.applicant_name,
                             "SoDienThoai": case.applicant_phone, "Email": case.applicant_email,
                             "NgayTiepNhan": _dvcqg_time(case.received_at), "NgayHenTra": _dvcqg_time(case.due_at),
                             "TrangThaiHoSo": str(status), "NgayTra": _dvcqg_time(case.returned_at),
                             "HinhThuc": HINH_THUC.get(case.channel, "0"),
                             "DonViXuLy": unit.name if unit else ""},
            "CapNhatTienDoHoSoMC": {"MaHoSo": case.code, "TrangThai": str(status), "ThoiDiemXuLy": _dvcqg_time(at),
                                    "NgayBatDau": _dvcqg_time(case.clock_started_at),
                                    "NgayKetThucTheoQuyDinh": _dvcqg_time(case.due_at)},
        },
    }


def status_changed(session: Session, case: Case, previous: int | None, status: int, at: datetime) -> None:
    """Queue the change to every portal partner (none configured: nothing, not even a query after the first
    in this transaction)."""
    from engine import lienthong_outbox, reference

    codes = reference.snapshot(session).portal_codes
    if not codes:
        return
    body = envelope(case, previous, status, at)
    for code in codes:
        lienthong_outbox.enqueue(session, code, MESSAGE, body, case=case, now=at)
