"""The province's QĐ 766/QĐ-TTg score, computed by motcua from its own data before the ministry does: the
indices it holds the data for (2.1, 2.2, 3.3, 4.1, 4.2, 5.4), per period and unit subtree, each with its
formula in words and the cases that cost points. Formulas: "Mô tả công thức tính chỉ số 766" (the description
written for provinces); group maxima: tiến độ 20, DVC trực tuyến 12, số hóa 22, hài lòng 18.

Data conventions: a case "received or handled in the period" is one received before the period's end and not
resolved (or stopped) before its start (engine.reports' scope); one that ended after the period's end is judged,
like an open one, at the period's end; a withdrawn case is not judged; an electronic result is a document with doc_code
`ket_qua` attached to the case; every result is taken to be a paper document (as in the shipped procedures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.deadlines import calendar_for
from engine.errors import Invalid
from engine.models import Case, Document, Event, Procedure, Rating, Unit, utcnow
from engine.report_scope import Filters, filters_for
from engine.status import ENDED, Status

RESULT_DOC = "ket_qua"  # the doc_code of an electronic result file


@dataclass
class Index:
    code: str
    name: str
    formula: str
    numerator: float
    denominator: int
    value: float | None  # per cent, or working days for 2.2
    unit: str  # "%" | "ngày làm việc"
    full_at: float | None  # the value from which the index earns its full score
    costs: list[str] = field(default_factory=list)  # case codes that cost points

    @property
    def meets(self) -> bool | None:
        if self.value is None or self.full_at is None:
            return None
        return self.value >= self.full_at


@dataclass
class Score:
    filters: Filters
    indices: list[Index]
    by_procedure: list[tuple[str, str, float, int, float]]  # 2.2 detail: code, name, avg days, n, legal days

    def get(self, code: str) -> Index:
        return next(i for i in self.indices if i.code == code)


def _pct(n: float, d: int) -> float | None:
    return round(n * 100 / d, 2) if d else None


@dataclass
class _Row:
    case: Case
    parts: int = 0
    results: int = 0


def _rows(session: Session, f: Filters) -> list[_Row]:
    q = select(Case).join(Unit, Unit.id == Case.receiving_unit_id).where(
        Case.process_version_id.is_not(None), Case.received_at < f.period.end,
        (Case.resolved_at.is_(None)) | (Case.resolved_at >= f.period.start))
    if f.root is not None:
        q = q.where(Unit.path.startswith(f.root.path))
    rows = {c.id: _Row(c) for c in session.scalars(q.order_by(Case.received_at, Case.id))}
    if rows:
        docs = select(Document.case_id, Document.doc_code, func.count()) \
            .where(Document.case_id.in_(list(rows))).group_by(Document.case_id, Document.doc_code)
        for case_id, doc_code, n in session.execute(docs):
            if doc_code == RESULT_DOC:
                rows[case_id].results += int(n)
            else:
                rows[case_id].parts += int(n)
    return list(rows.values())


def _stopped_at(session: Session, rows: list[_Row]) -> dict[int, datetime]:
    """When each stopped case (Dừng xử lý) was stopped: its status event, the one record of that moment."""
    ids = [r.case.id for r in rows if r.case.status_code == Status.STOPPED]
    if not ids:
        return {}
    return dict(session.execute(select(Event.case_id, func.max(Event.at)).where(
        Event.case_id.in_(ids), Event.kind == "status", Event.data["to"].as_integer() == Status.STOPPED)
        .group_by(Event.case_id)).all())


def _end(c: Case, stopped: dict[int, datetime]) -> datetime | None:
    """NgayKetThucXuLy: processed, else returned, else (stopped or refused) the moment it stopped."""
    return c.resolved_at or c.returned_at or stopped.get(c.id)


def _on_time(c: Case, end: datetime | None, period_end: datetime, cutoff: datetime, calendar: Any) -> bool:
    if c.supplement_count > 1:
        return False  # more than one supplement request is late whatever the dates
    if end is not None and end >= period_end:
        end = None  # ended after the period: it was still open at the period's end and is judged there
    elif end is not None and c.resolved_at is not None and c.timing:
        return c.timing != "late"  # judged once, when resolved (engine.status.set_status)
    if end is None and c.status_code == Status.SUPPLEMENT:
        return True  # the clock stands still while the citizen completes the dossier
    end = end or cutoff  # still open: judged at the period's end
    due = c.original_due_at or c.due_at  # the appointment of record, as set_status measures it
    if due is None:  # no appointment: the elapsed time against the legal limit
        start = c.clock_started_at or c.received_at
        return calendar.working_days_between(start, end) <= Decimal(c.procedure.deadline_days)
    # The appointment restarts when a supplement is completed, which subtracts the citizen's time.
    return end <= due


def compute(session: Session, user: Any, first: str | None, last: str | None, unit: str | None = None,
            now: datetime | None = None) -> Score:
    f = filters_for(session, user, first, last, unit, now=now or utcnow())
    calendar = calendar_for(session)
    s, e = f.period.start, f.period.end
    rows = _rows(session, f)
    stopped = _stopped_at(session, rows)
    # A withdrawn case is not judged; a stopped one is, by its stop moment, when that falls in or after the period.
    rows = [r for r in rows if r.case.status_code not in ENDED or stopped.get(r.case.id, s - timedelta(1)) >= s]
    late = [r.case.code for r in rows if not _on_time(r.case, _end(r.case, stopped), e, f.cutoff, calendar)]
    i21 = Index("2.1", "Tỷ lệ hồ sơ giải quyết đúng hạn",
                "(số hồ sơ đã xử lý hoặc đang xử lý đúng hạn) ÷ (số hồ sơ tiếp nhận hoặc đang giải quyết trong kỳ); "
                "kết thúc ≤ ngày hẹn trả, trừ thời gian công dân bổ sung; bổ sung quá 1 lần tính trễ hạn; "
                "hồ sơ còn mở xét tại ngày cuối kỳ", len(rows) - len(late), len(rows),
                _pct(len(rows) - len(late), len(rows)), "%", 100.0, late)
    resolved = [r.case for r in rows if r.case.resolved_at is not None and s <= r.case.resolved_at < e]
    per: dict[int, list[float]] = {}
    for c in resolved:
        days = calendar.working_days_between(c.clock_started_at or c.received_at, c.resolved_at)
        per.setdefault(c.procedure_id, []).append(float(days))
    procs = {p.id: p for p in session.scalars(select(Procedure).where(Procedure.id.in_(list(per))))} if per else {}
    by_procedure = sorted(((procs[pid].code, procs[pid].name, round(sum(v) / len(v), 2), len(v),
                            float(procs[pid].deadline_days)) for pid, v in per.items()), key=lambda t: t[0])
    total_days = sum(sum(v) for v in per.values())
    slow = [c.code for c in resolved if c.timing == "late"]
    i22 = Index("2.2", "Thời gian giải quyết trung bình",
                "Σ(số ngày làm việc từ tiếp nhận đến khi xử lý xong) ÷ (số hồ sơ xử lý xong trong kỳ), "
                "theo từng thủ tục",
                round(total_days, 2), len(resolved), round(total_days / len(resolved), 2) if resolved else None,
                "ngày làm việc", None, slow)
    new = [r for r in rows if s <= r.case.received_at < e]
    online_e = [r for r in new if r.case.channel == "online" and r.results]
    i33 = Index("3.3", "Tỷ lệ hồ sơ trực tuyến",
                "(số hồ sơ nộp trực tuyến có kết quả điện tử) ÷ (số hồ sơ tiếp nhận trong kỳ); đạt tối đa khi ≥ 50 %",
                len(online_e), len(new), _pct(len(online_e), len(new)), "%", 50.0,
                [r.case.code for r in new if not (r.case.channel == "online" and r.results)])
    res_rows = [r for r in rows if r.case.resolved_at is not None and s <= r.case.resolved_at < e]
    with_e = [r for r in res_rows if r.results]
    i41 = Index("4.1", "Tỷ lệ cấp kết quả điện tử",
                "(số hồ sơ có tệp kết quả điện tử) ÷ (số hồ sơ có kết quả là giấy tờ, xử lý xong trong kỳ)",
                len(with_e), len(res_rows), _pct(len(with_e), len(res_rows)), "%", 100.0,
                [r.case.code for r in res_rows if not r.results])
    digitised = [r for r in new if r.parts and r.results]
    i42 = Index("4.2", "Tỷ lệ số hóa hồ sơ",
                "(số hồ sơ có tệp trong thành phần hồ sơ và trong kết quả) ÷ (số hồ sơ tiếp nhận trong kỳ); "
                "đạt tối đa khi ≥ 80 %", len(digitised), len(new), _pct(len(digitised), len(new)), "%", 80.0,
                [r.case.code for r in new if not (r.parts and r.results)])
    ids = [r.case.id for r in rows]
    unhappy: list[str] = []
    if ids:
        codes = {r.case.id: r.case.code for r in rows}
        for case_id, scores, comment in session.execute(select(Rating.case_id, Rating.scores, Rating.comment).where(
                Rating.case_id.in_(ids), Rating.created_at >= s, Rating.created_at < e)):
            if comment or any(v == 0 for v in (scores or {}).values()):
                unhappy.append(codes[case_id])
    late_rate = 100 - (i21.value if i21.value is not None else 100)
    value = round(100 - late_rate - (len(unhappy) * 100 / len(rows)), 2) if rows else None
    i54 = Index("5.4", "Mức độ hài lòng",
                "100 % − (tỷ lệ trễ hạn + tỷ lệ hồ sơ có phản ánh hoặc đánh giá không hài lòng); đạt tối đa khi ≥ 90 %",
                round(len(rows) * (value or 0) / 100, 2), len(rows), value, "%", 90.0, sorted(set(late + unhappy)))
    return Score(f, [i21, i22, i33, i41, i42, i54], by_procedure)


def drill(session: Session, user: Any, code: str, first: str | None, last: str | None, unit: str | None = None,
          now: datetime | None = None) -> list[Case]:
    """The cases that cost points in index `code`."""
    score = compute(session, user, first, last, unit, now)
    if code not in {i.code for i in score.indices}:
        raise Invalid.of("score766_index_choice", details={"index": "invalid"})
    codes = score.get(code).costs
    if not codes:
        return []
    return list(session.scalars(select(Case).where(Case.code.in_(codes)).order_by(Case.received_at, Case.id)))
