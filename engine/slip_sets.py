"""The legal set of printed forms a deployment uses, chosen by the operator (MOTCUA_SLIP_SET).

- `tt01-2018`: Thông tư 01/2018/TT-VPCP's six forms (engine.slips, templates in slips/).
- `tt03-2025`: Thông tư 03/2025/TT-VPCP's seven forms (Phụ lục I, applied from 15/09/2025), templates in
  slips/tt03-2025/: they carry the số định danh, a proxy's data (data.proxy of the case: name, id_number,
  address, phone, authorisation), where the result is collected (the return channel), a digital signature
  line when the form is electronic, the apology *and extension request* (Mẫu 04), the stop notice (Mẫu 05),
  the control slip (Mẫu 06) and the ledger with how the result was delivered (Mẫu 07).

Without MOTCUA_SLIP_SET a two-level deployment (its active units span fewer than three levels) gets the
2025 set, others the 2018 one. Every PDF still goes through engine.pdf.render_pdf (via engine.slip_render._pdf).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from engine import slip_data as data
from engine import slip_render as render
from engine.errors import Invalid, NotFound
from engine.ledger import LedgerRow
from engine.models import Case, Unit, utcnow

SET_ENV = "MOTCUA_SLIP_SET"
TT01_2018, TT03_2025 = "tt01-2018", "tt03-2025"
TITLES = {
    TT01_2018: data.SLIPS,
    TT03_2025: {"01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
                "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
                "04": "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết",
                "05": "Thông báo dừng giải quyết hồ sơ", "06": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
                "07": "Sổ theo dõi hồ sơ"},
}
LEDGER = {TT01_2018: "06", TT03_2025: "07"}
RETURN_CHANNELS = {"desk": "Trực tiếp tại Bộ phận Một cửa", "post": "Qua dịch vụ bưu chính công ích",
                   "online": "Trực tuyến"}
PROXY_FIELDS = ("name", "id_number", "address", "phone", "authorisation")


def two_level(session: Session) -> bool:
    """A deployment whose active units span fewer than three levels (the province and communes since 2025)."""
    used = session.scalar(select(func.count(func.distinct(Unit.level_code))).where(Unit.active.is_(True)))
    return 0 < (used or 0) < 3


def current(session: Session | None) -> str:
    """The deployment's set: MOTCUA_SLIP_SET, else by the number of levels in use."""
    chosen = os.environ.get(SET_ENV, "").strip()
    if chosen:
        if chosen not in TITLES:
            raise Invalid.of("slip_set_unknown", name=SET_ENV, chosen=chosen, choices=", ".join(TITLES),
                             details={SET_ENV: chosen})
        return chosen
    return TT03_2025 if session is not None and two_level(session) else TT01_2018


def is_2025(session: Session | None) -> bool:
    """Whether the deployment issues TT 03/2025's forms (Mẫu 04 is then an apology and extension request)."""
    return current(session) == TT03_2025


def titles(session: Session | None) -> dict[str, str]:
    return TITLES[current(session)]


# --- the 2025 set -----------------------------------------------------------------------------


def available_2025(session: Session, case: Case) -> list[str]:
    """The TT 03/2025 forms that make sense for this case, in order (07, the ledger, is per period)."""
    return data.slips_that_apply(session, case, stop_notice="05", control="06")


def proxy_of(case: Case) -> dict[str, str] | None:
    """The proxy who applied on the applicant's behalf (data.proxy), when there is one with a name."""
    proxy = (case.data or {}).get("proxy")
    if not isinstance(proxy, dict) or not str(proxy.get("name") or "").strip():
        return None
    return {k: str(proxy.get(k) or "") for k in PROXY_FIELDS}


def collect_at(case: Case, agency: dict[str, Any]) -> str:
    """Where the result is collected: the receiving desk, by post to the applicant's address, or online."""
    channel = case.return_channel or "desk"
    if channel == "post":
        return f"{RETURN_CHANNELS['post']}: {case.applicant_address or '…'}"
    if channel == "online":
        return f"{RETURN_CHANNELS['online']} (Cổng Dịch vụ công quốc gia)"
    return str(agency.get("collect_at") or "")


def _stop_notice(session: Session, case: Case) -> dict[str, Any]:
    notices = data._events(session, case, "stop_notice")
    if not notices:
        raise NotFound.of("slip_no_stop", code=case.code)
    ev = notices[-1]
    asked = ev.data or {}
    officer = data._user_name(session, ev.actor_id)
    return dict(received_at=case.received_at, reason=str(asked.get("reason") or ""),
                requested_by=str(asked.get("requested_by") or case.applicant_name), requested_at=ev.at,
                stopped_at=ev.at, officer=officer, signer=officer, signed_at=ev.at, dated=ev.at)


def render_2025(session: Session, case: Case, nn: str, base_url: str | None = None,
                now: datetime | None = None) -> bytes:
    """The PDF of TT 03/2025 form NN (01–06) for this case. NotFound when it does not apply."""
    nn = str(nn).strip().zfill(2)
    names = TITLES[TT03_2025]
    if nn not in names or nn == LEDGER[TT03_2025]:
        raise NotFound.of("slip_unknown", nn=nn, choices="01–06")
    if nn not in available_2025(session, case):
        raise NotFound.of("slip_not_applicable", nn=nn, name=names[nn], code=case.code)
    own = {"01": lambda: data._facts_01(session, case, base_url), "02": lambda: data._facts_02(session, case),
           "03": lambda: data._facts_03(session, case), "04": lambda: data._facts_04(session, case),
           "05": lambda: _stop_notice(session, case), "06": lambda: data._facts_05(session, case)}[nn]()
    facts = {**data.case_facts(case), "signer": None, "signed_at": None, **own}
    path = render.slips_path()
    ctx = render._frame("01", case.receiving_unit, path, now or utcnow())
    agency = ctx["agency"]
    dated = facts.pop("dated") or ctx["now"]
    ctx.update(facts, nn=nn, title=names[nn], qr=render.qr_svg(case.code), qr_text=case.code,
               collect_at=collect_at(case, agency), contact_phone=agency.get("contact_phone", ""),
               place_date=render.place_date(agency.get("place", ""), dated), proxy=proxy_of(case),
               electronic=case.channel == "online", competent=case.competent_unit)
    url = facts.get("lookup_url")
    if url:  # the receipt's QR code opens the lookup page with the code filled in
        ctx.update(qr=render.qr_svg(url), qr_text=url, lookup_page=url.split("?", 1)[0])
    if nn == "01":
        ctx.update(signer=facts.get("clerk"), signed_at=case.received_at)
    return render._pdf(path, f"{TT03_2025}/{nn}.html", ctx)


def render_ledger_2025(rows: list[LedgerRow], period_label: str, unit: Unit | None = None,
                       now: datetime | None = None) -> bytes:
    """Mẫu 07 of TT 03/2025, the Sổ theo dõi hồ sơ, with how each result was delivered."""
    path = render.slips_path()
    if unit is None:
        receiving = {r.case.receiving_unit_id for r in rows}
        unit = rows[0].case.receiving_unit if len(receiving) == 1 else None
    now = now or utcnow()
    ctx = render._frame("06", unit, path, now)
    ctx.update(nn="07", title=TITLES[TT03_2025]["07"], period=period_label, rows=rows,
               return_channels=RETURN_CHANNELS, place_date=render.place_date(ctx["agency"].get("place", ""), now))
    return render._pdf(path, f"{TT03_2025}/07.html", ctx)


def ledger_session(rows: list[LedgerRow]) -> Session | None:
    """The session the ledger's rows came from (to tell a two-level deployment), if any."""
    return object_session(rows[0].case) if rows else None
