"""Sổ theo dõi hồ sơ (Mẫu 06, TT 01/2018): the one place its rows are worked out. The Excel export, the PDF
(engine.slips.render_ledger) and `motcua ledger` all render `rows()`; the receipt (Mẫu 01) prints `number()`.

- A book per receiving unit per year (local time). A case gets its number when it is received (accepted at
  the desk), in order of reception, and keeps it: the receipt and the book never disagree.
- The ledger lists the cases received in the period: the very predicate of the reports' "Tiếp nhận mới
  trong kỳ", so the book has as many rows as the report counts. Online submissions not yet accepted and
  refusals at intake are not received (their slips are Mẫu 02/03).
- After a restructuring a merged (or abolished) desk's book is closed, not renumbered (NQ 190/2025: the
  successor continues, nothing is redone; TT 01/2018 Điều 10 k2: a book is numbered through its year and
  never restarted): its cases keep the numbers their receipts carry and stay in the successor's ledger
  (report_figures.scoped takes in the units a unit took over), under a heading that names the old desk as it
  was, its successor and the date, so that two "số 1" of two books are never confused. The successor's own
  book numbers on from its own sequence.
- "Sent" is when the dossier left the desk: the first handover to anyone but a desk role (a role that
  receives dossiers) of the receiving unit. "Back" is the first handover after that to a desk role of the
  receiving unit, else the resolution. The lead agency is the highest level the case went to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine import xlsx
from engine.calendar import VN_TZ
from engine.models import Case, Event, LedgerSequence, Unit
from engine.org import roles_with
from engine.status import STATUS
from engine.unit_history import NamesAt, handed_over, successor_id

TIMING = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
RESULTS = {"approved": "Giải quyết", "refused": "Từ chối"}
HEADERS = ("STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Tên tổ chức, cá nhân", "Địa chỉ, số điện thoại",
           "Cơ quan chủ trì giải quyết", "Nhận hồ sơ", "Hẹn trả kết quả", "Chuyển hồ sơ đến cơ quan giải quyết",
           "Nhận kết quả từ cơ quan giải quyết", "Trả kết quả", "Tình trạng", "Kết quả", "Ghi chú", "Sổ theo dõi")


def book_of(case: Case) -> int:
    """The ledger book (year of receipt, Vietnam time) a case is entered in."""
    return case.received_at.astimezone(VN_TZ).year


def assign_number(session: Session, case: Case) -> int:
    """Enter a case just received in its unit's book: the next number, by an atomic upsert (two desks
    receiving at once on PostgreSQL never get the same number). Idempotent."""
    if case.ledger_number is not None:
        return case.ledger_number
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(LedgerSequence)
    stmt = ins.values(unit_id=case.receiving_unit_id, year=book_of(case), last=1).on_conflict_do_update(
        index_elements=[LedgerSequence.unit_id, LedgerSequence.year],
        set_={"last": LedgerSequence.last + 1}).returning(LedgerSequence.last)
    case.ledger_number = int(session.execute(stmt).scalar_one())
    return case.ledger_number


def number(case: Case) -> tuple[str, int | None]:
    """(book, number) as printed on the receipt (Mẫu 01) and in the ledger's first column."""
    return str(book_of(case)), case.ledger_number


@dataclass
class LedgerRow:
    number: int | None
    book: str
    case: Case
    sets: Any
    lead: str  # cơ quan chủ trì giải quyết
    units: str  # every unit the case went to, in order
    received_at: datetime
    due_at: datetime | None
    sent_at: datetime | None
    back_at: datetime | None
    returned_at: datetime | None
    status: str
    result: str
    timing: str
    desk: str = ""  # the receiving unit, named as it was when the case was received
    closed: str = ""  # for a book closed by a restructuring: who took it over, and from when
    heading: str = ""  # set on a book's first row when the ledger holds several books (book_heading)

    @property
    def note(self) -> str:
        """The PDF's single Ghi chú column: status, timing and a refusal, as the Excel columns say them."""
        refused = "Từ chối giải quyết" if self.case.result == "refused" else ""
        return "; ".join(p for p in (self.status, self.timing, refused) if p)


def received_in(session: Session, f: Any, limit: int = 50000) -> list[Case]:
    """The cases received in the report filters' period and scope, in book order."""
    from engine.report_figures import predicates, scoped

    q = scoped(select(Case).select_from(Case), f).where(predicates(f)["received_new"])
    return list(session.scalars(q.order_by(Unit.path, Case.received_at, Case.ledger_number, Case.id).limit(limit)))


def rows(session: Session, f: Any, limit: int = 50000) -> list[LedgerRow]:
    """The ledger of a period (engine.reports.Filters: period, unit subtree, field, level)."""
    return rows_for_cases(session, received_in(session, f, limit))


def rows_for_cases(session: Session, cases: list[Case]) -> list[LedgerRow]:
    """One row per case, the transfer dates read from all their handovers in a few queries."""
    desk_roles = set(roles_with(session, "receives_dossiers"))
    names = NamesAt(session)  # a unit's name as it was when the case reached it
    handovers: dict[int, list[Event]] = {}
    ids = [c.id for c in cases]
    for i in range(0, len(ids), 500):
        for ev in session.scalars(select(Event).where(Event.case_id.in_(ids[i:i + 500]), Event.kind == "handover")
                                  .order_by(Event.at, Event.id)):
            handovers.setdefault(ev.case_id, []).append(ev)
    out = []
    closed: dict[int, str] = {}
    for case in cases:
        evs = handovers.get(case.id, [])
        if case.receiving_unit_id not in closed:
            closed[case.receiving_unit_id] = _closed_by(session, names, case.receiving_unit)

        # After a merge the receiving desk's work goes to its successor (engine.restructure).
        home = {case.receiving_unit_id} | ({successor_id(session, case.receiving_unit)}
                                          if not case.receiving_unit.active else set())

        def at_desk(ev: Event, home: set = home) -> bool:
            return ev.to_unit_id in home and (ev.data or {}).get("role") in desk_roles

        sent = next((ev for ev in evs if not at_desk(ev)), None)
        back = next((ev for ev in evs if sent is not None and ev.at >= sent.at and ev.id != sent.id
                     and at_desk(ev)), None)
        first_at = {}
        for ev in evs:
            first_at.setdefault(ev.to_unit_id, ev.at)
        units = list(dict.fromkeys(ev.to_unit for ev in evs if ev.to_unit is not None))
        lead_unit = min(units, key=lambda u: (u.level.rank, u.id)) if units else None
        lead = names.name(lead_unit, first_at[lead_unit.id]) if lead_unit else \
            names.name(case.receiving_unit, case.received_at)
        book, n = number(case)
        out.append(LedgerRow(
            number=n, book=book, case=case, sets=(case.data or {}).get("number_of_sets") or 1, lead=lead,
            units=", ".join(names.name(u, first_at[u.id]) for u in units), received_at=case.received_at,
            due_at=case.due_at,
            sent_at=sent.at if sent else None, back_at=back.at if back else (case.resolved_at if sent else None),
            returned_at=case.returned_at, status=STATUS.get(case.status_code, ""),
            result=RESULTS.get(case.result or "", ""), timing=TIMING.get(case.timing or "", ""),
            desk=names.name(case.receiving_unit, case.received_at), closed=closed[case.receiving_unit_id]))
    _head_books(out)
    return out


def _closed_by(session: Session, names: NamesAt, unit: Unit) -> str:
    """For a desk merged or abolished by a restructuring: which unit holds its book now, and since when."""
    found = handed_over(session, unit)
    if found is None:
        return ""
    successor, link = found
    since = link.effective.astimezone(VN_TZ).strftime("%d/%m/%Y")
    verb = "sáp nhập vào" if link.kind == "merge" else "giải thể, công việc chuyển cho"
    return f"đã {verb} {names.name(successor, link.effective)} từ {since}"


def book_heading(row: LedgerRow) -> str:
    """A book's title in a ledger that shows several: the desk and the year, and for a book a restructuring
    closed, its successor and that the numbers are the original ones."""
    text = f"Sổ theo dõi hồ sơ năm {row.book} — {row.desk}"
    return f"{text} ({row.closed}; số thứ tự giữ nguyên như đã cấp)" if row.closed else text


def _head_books(rows: list[LedgerRow]) -> None:
    """Mark each book's first row with its heading, when the rows are more than one book or a closed one."""
    keys = [(r.case.receiving_unit_id, r.book) for r in rows]
    if len(set(keys)) < 2 and not any(r.closed for r in rows):
        return
    for i, row in enumerate(rows):
        if i == 0 or keys[i] != keys[i - 1]:
            row.heading = book_heading(row)


def _text(moment: datetime | None) -> str:
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if moment else ""


def excel(session: Session, f: Any, title_scope: str, translate: Any = None) -> bytes:
    """The ledger as an .xlsx file: one row per case received in the period."""
    t = translate or (lambda s: s)
    wb, ws = xlsx.workbook("Mau 06", t("SỔ THEO DÕI HỒ SƠ"),
                           [f"{t('Đơn vị')}: {title_scope}", "", "", f"{t('Kỳ')}: {f.period.label}"],
                           [t(h) for h in HEADERS])
    for row in rows(session, f):
        c = row.case
        contact = ", ".join(x for x in (c.applicant_address, c.applicant_phone) if x)
        # Status, result and timing labels are constants of this module, not data: translating them is safe.
        ws.append([row.number, c.code, c.procedure.name, c.applicant_name, contact, row.lead,
                   _text(row.received_at), _text(row.due_at), _text(row.sent_at), _text(row.back_at),
                   _text(row.returned_at), t(row.status) if row.status else "", t(row.result) if row.result else "",
                   t(row.timing) if row.timing else "", book_heading(row)])  # the book names data: not translated
    for col, width in zip("ABCDEFGHIJKLMNO", (6, 26, 40, 24, 30, 36, 17, 17, 17, 17, 17, 20, 12, 12, 60),
                          strict=True):
        ws.column_dimensions[col].width = width
    return xlsx.to_bytes(wb)
