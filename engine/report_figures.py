"""The figures of every official report on administrative procedures (Thông tư 01/2018, Điều 11; the
ministry's standard table), per period, per field (lĩnh vực), per unit and per level.

Every figure is one SQL predicate over indexed case columns (and, for withdrawals, the audit events);
`summary` sums them with GROUP BY, `drill_down` lists the cases behind any one of them with the very
same predicate, so a figure and its list can never disagree. Cases are never loaded to be counted.

Definitions (a period is [from 00:00, to + 1 day 00:00) in Asia/Ho_Chi_Minh):
- received: the case went through intake (it has a process version; status-1 online submissions not yet
  accepted and status-3 intake refusals were never received);
- carried over: received before the period and still open at its start; new: received in it;
- resolved early / on time / late: resolved (status 9/10) in the period, by the timing stored at
  resolution (engine.calendar.classify, QĐ 766 rule applied once in engine.status) — never recomputed;
- in progress at the period end (within time / overdue against due_at at min(period end, now)),
  paused for supplement (status 5) — both among the cases still open at the period end;
- withdrawn: status 7 reached in the period (its status event); refused: result "refused", at intake
  (status 3, dated by receipt) or after review (dated by resolution);
- intake incomplete: a Phiếu yêu cầu bổ sung (Mẫu 02) issued at intake in the period, at the desk or for an
  online dossier (its `intake_incomplete` event). Such a dossier was not received, so it is in no other
  figure; when the applicant comes back, the case then received counts as received like any other.
Scope: cases whose receiving unit lies in the user's subtree (head/leader), or was taken over by a unit in
it (merged or abolished: its successor keeps its records), everything for admin.
Statuses 5 and 7 are current values: a historical report shows a case that is paused now as paused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session, object_session

from engine import inputs, procedure_codes
from engine.errors import Invalid
from engine.models import Case, Event, Level, Procedure, Rating, Unit, utcnow
from engine.report_scope import Filters
from engine.status import ENDED, Status

FIGURES = ("received_carried_over", "received_new", "received_online", "received_desk", "received_post",
           "resolved_early", "resolved_on_time", "resolved_late", "in_progress_in_time", "in_progress_overdue",
           "paused", "withdrawn", "refused", "intake_incomplete")
# Extra figures one can drill into; not part of the summary's JSON keys.
DRILL_ONLY = ("resolved", "in_progress")

LABELS = {
    "received_carried_over": "Kỳ trước chuyển qua",
    "received_new": "Tiếp nhận mới trong kỳ",
    "received_online": "Trong đó: trực tuyến",
    "received_desk": "Trong đó: trực tiếp",
    "received_post": "Trong đó: bưu chính công ích",
    "resolved_early": "Đã giải quyết trước hạn",
    "resolved_on_time": "Đã giải quyết đúng hạn",
    "resolved_late": "Đã giải quyết quá hạn",
    "in_progress_in_time": "Đang giải quyết trong hạn",
    "in_progress_overdue": "Đang giải quyết quá hạn",
    "paused": "Chờ bổ sung hồ sơ",
    "withdrawn": "Rút hồ sơ",
    "refused": "Từ chối",
    "intake_incomplete": "Yêu cầu bổ sung khi tiếp nhận (Mẫu 02)",
    "on_time_rate": "Tỷ lệ đúng hạn (%)",
    "resolved": "Đã giải quyết",
    "in_progress": "Đang giải quyết",
}
GROUPS = ("unit", "field", "level", "procedure")
# How a resolved case is timed (Case.timing), in the words of the report pages (web/labels.REPORT_TIMING).
TIMING_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}

# Thông tư 01/2018/TT-VPCP, Điều 13: the nine rating criteria (chỉ số), each scored 0, 1 or 2.
CRITERIA: tuple[tuple[str, str], ...] = (
    ("c1", "Tổng thời gian giải quyết so với thời gian cho phép theo quy định"),
    ("c2", "Thời gian thực hiện của từng cơ quan, đơn vị tham gia giải quyết"),
    ("c3", "Số lần phải liên hệ với nơi tiếp nhận để hoàn thiện hồ sơ"),
    ("c4", "Số lượng cơ quan, đơn vị, tổ chức phải liên hệ để hoàn thiện hồ sơ"),
    ("c5", "Tiếp nhận, giải quyết, trả kết quả tại Bộ phận Một cửa"),
    ("c6", "Công khai thủ tục hành chính"),
    ("c7", "Thái độ của cán bộ, công chức khi hướng dẫn, tiếp nhận và giải quyết"),
    ("c8", "Tiếp thu, giải trình đối với ý kiến phản ánh, kiến nghị"),
    ("c9", "Tiến độ và chất lượng cung cấp dịch vụ công trực tuyến"),
)

# --- the predicates: one per figure -------------------------------------------------------------


def _ended_before(t: datetime) -> ColumnElement[bool]:
    """Withdrawn (7) or stopped (8) before t: dated by the status event that ended it."""
    ended = exists().where(Event.case_id == Case.id, Event.kind == "status", Event.at < t,
                           Event.data["to"].as_integer().in_(ENDED))
    return and_(Case.status_code.in_(ENDED), ended)


def _open_at(t: datetime) -> ColumnElement[bool]:
    return and_(Case.process_version_id.is_not(None), Case.received_at < t,
                or_(Case.resolved_at.is_(None), Case.resolved_at >= t), not_(_ended_before(t)))


def predicates(f: Filters) -> dict[str, ColumnElement[bool]]:
    s, e, cutoff = f.period.start, f.period.end, f.cutoff
    received = Case.process_version_id.is_not(None)
    new = and_(received, Case.received_at >= s, Case.received_at < e)
    resolved = and_(Case.resolved_at >= s, Case.resolved_at < e)
    open_end = _open_at(e)
    running = and_(open_end, Case.status_code != Status.SUPPLEMENT)
    asked_at_intake = exists().where(Event.case_id == Case.id, Event.kind == "intake_incomplete", Event.at >= s,
                                     Event.at < e)
    withdrawn_in = exists().where(Event.case_id == Case.id, Event.kind == "status", Event.at >= s, Event.at < e,
                                  Event.data["to"].as_integer() == Status.WITHDRAWN)
    return {
        "received_carried_over": _open_at(s),
        "received_new": new,
        "received_online": and_(new, Case.channel == "online"),
        "received_desk": and_(new, Case.channel == "desk"),
        "received_post": and_(new, Case.channel == "post"),
        "resolved_early": and_(resolved, Case.timing == "early"),
        "resolved_on_time": and_(resolved, Case.timing == "on_time"),
        "resolved_late": and_(resolved, Case.timing == "late"),
        "resolved": resolved,
        "in_progress_in_time": and_(running, or_(Case.due_at.is_(None), Case.due_at >= cutoff)),
        "in_progress_overdue": and_(running, Case.due_at < cutoff),
        "in_progress": running,
        "paused": and_(open_end, Case.status_code == Status.SUPPLEMENT),
        "withdrawn": and_(received, Case.status_code == Status.WITHDRAWN, withdrawn_in),
        "refused": and_(Case.result == "refused",
                        or_(and_(Case.status_code == Status.NOT_RECEIVED, Case.received_at >= s,
                                 Case.received_at < e), resolved)),
        # received_at < e keeps it inside _relevant (an online dossier accepted later is dated by acceptance).
        "intake_incomplete": and_(Case.received_at < e, asked_at_intake),
    }


def _relevant(f: Filters) -> ColumnElement[bool]:
    """Every figure concerns a case received before the period end and not resolved before its start:
    a cheap range filter that lets the database skip old history."""
    return and_(Case.received_at < f.period.end,
                or_(Case.resolved_at.is_(None), Case.resolved_at >= f.period.start))


def scoped(q: Any, f: Filters) -> Any:
    q = q.join(Unit, Unit.id == Case.receiving_unit_id).join(Procedure, Procedure.id == Case.procedure_id)
    return _filtered(q, f)


def _unit_scope(f: Filters) -> list[ColumnElement[bool]]:
    """The subtree and level filters, as conditions on `Unit`. The subtree takes in the units its units took
    over in a restructuring: a merged commune's cases stay in its successor's ledger and reports
    (engine.unit_history)."""
    conditions = []
    if f.root is not None:
        from engine.unit_history import taken_over_ids

        inside = Unit.path.startswith(f.root.path)
        session = object_session(f.root)
        taken = taken_over_ids(session, f.root) if session is not None else []
        conditions.append(or_(inside, Unit.id.in_(taken)) if taken else inside)
    if f.level:
        conditions.append(Unit.level_code == f.level)
    return conditions


def _filtered(q: Any, f: Filters) -> Any:
    """The subtree, field and level filters; `Unit` and `Procedure` must already be joined."""
    q = q.where(*_unit_scope(f))
    return q.where(Procedure.field == f.field) if f.field else q


def _case_scope(f: Filters) -> list[ColumnElement[bool]]:
    """The same filters on the case's own columns (semi-joins on the small unit and procedure tables), for the
    queries that need no column of either: at 1M cases, joining them made PostgreSQL aggregate the year's cases
    through a nested loop over the units, ~40 % of the yearly table's time."""
    conditions = []
    units = _unit_scope(f)
    if units:
        conditions.append(Case.receiving_unit_id.in_(select(Unit.id).where(*units)))
    if f.field:
        conditions.append(Case.procedure_id.in_(select(Procedure.id).where(Procedure.field == f.field)))
    return conditions


def on_time_rate(early: int, on_time: int, late: int) -> float | None:
    """(early + on time) × 100 / resolved, two decimals; None when nothing was resolved."""
    total = early + on_time + late
    if not total:
        return None
    return float((Decimal(early + on_time) * 100 / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _with_rate(row: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {k: int(row.get(k) or 0) for k in FIGURES}
    out["on_time_rate"] = on_time_rate(out["resolved_early"], out["resolved_on_time"], out["resolved_late"])
    return out


def _group_columns(group: str) -> tuple[Any, Any]:
    """(key column, label column) of a grouping other than by unit (see `table`)."""
    if group == "field":
        return Procedure.field, func.max(Procedure.field)
    if group == "level":
        return Unit.level_code, func.max(Unit.level_code)
    if group == "procedure":
        return Procedure.code, func.max(Procedure.name)
    raise Invalid.of("report_group_choice", choices=", ".join(GROUPS), details={"group": group})


def summary(session: Session, f: Filters) -> dict[str, Any]:
    """The table's figures for the whole scope: the keys of FIGURES plus on_time_rate."""
    preds = predicates(f)
    cols = [func.coalesce(func.sum(case((preds[k], 1), else_=0)), 0).label(k) for k in FIGURES]
    q = select(*cols).select_from(Case).where(_relevant(f), *_case_scope(f))
    row = session.execute(q).mappings().one()
    return _with_rate(dict(row))


@dataclass
class Row:
    key: str
    label: str
    figures: dict[str, Any]


def table(session: Session, f: Filters, group: str = "unit") -> list[Row]:
    """The same figures per unit (receiving unit), field, level or procedure, in one GROUP BY (per unit, by the
    case's own unit id, named afterwards: no join in the aggregate)."""
    preds = predicates(f)
    cols = [func.coalesce(func.sum(case((preds[k], 1), else_=0)), 0).label(k) for k in FIGURES]
    rows = []
    if group == "unit":
        q = select(Case.receiving_unit_id.label("key"), *cols).where(_relevant(f), *_case_scope(f)) \
            .group_by(Case.receiving_unit_id)
        found = {r["key"]: r for r in session.execute(q).mappings()}
        named = session.execute(select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(found))).all() if found else []
        for unit_id, code, name in sorted(named, key=lambda u: u.code):
            rows.append(Row(key=code, label=name or "—", figures=_with_rate(dict(found[unit_id]))))
    else:
        key, label = _group_columns(group)
        q = scoped(select(key.label("key"), label.label("label"), *cols).select_from(Case), f) \
            .where(_relevant(f)).group_by(key).order_by(key)
        for r in session.execute(q).mappings():
            rows.append(Row(key=str(r["key"] or ""), label=str(r["label"] or "—"), figures=_with_rate(dict(r))))
    if group == "level":
        names = dict(session.execute(select(Level.code, Level.name)).all())
        for r in rows:
            r.label = names.get(r.key, r.key)
    if group == "procedure":
        procedure_codes.label_with_national_codes(session, rows)
    if group == "unit":  # old units before a restructuring's effective date, their successors after
        from engine.unit_history import regroup

        rows = regroup(session, rows, f.period.start, f.period.end, _with_rate)
    return rows


def total(rows: list[Row]) -> dict[str, Any]:
    """The figures for the whole scope as the sum of a table's rows (each case lies in exactly one row of
    any grouping), so a page showing the table gets its summary without scanning the cases again; equal to
    `summary` for the same filters."""
    sums = {k: sum(r.figures[k] for r in rows) for k in FIGURES}
    return _with_rate(sums)


@dataclass
class CasePage:
    cases: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def drill_down(session: Session, f: Filters, figure: str, page: int = 1, per_page: int = 50) -> CasePage:
    """The cases behind one figure, with the figure's own predicate, ordered by receipt, paginated."""
    preds = predicates(f)
    if figure not in preds:
        raise Invalid.of("report_figure_unknown", figure=figure, details={"figure": figure})
    page, per_page = max(1, min(page, inputs.INT32_MAX)), max(1, min(per_page, 500))
    # Each predicate implies _relevant(); leaving it out lets the planner use the figure's own index.
    base = scoped(select(Case).select_from(Case), f).where(preds[figure])
    total = session.scalar(scoped(select(func.count()).select_from(Case), f).where(preds[figure]))
    rows = list(session.scalars(base.order_by(Case.received_at, Case.id).offset((page - 1) * per_page)
                                .limit(per_page)))
    return CasePage(rows, int(total or 0), page, per_page)


# --- charts -------------------------------------------------------------------------------------


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+7 hours")  # Vietnam has no daylight saving time


def monthly_rate(session: Session, f: Filters) -> list[dict[str, Any]]:
    """On-time rate per month of resolution within the period."""
    month = _month(session, Case.resolved_at).label("month")
    sums = [func.coalesce(func.sum(case((Case.timing == t, 1), else_=0)), 0).label(t)
            for t in ("early", "on_time", "late")]
    q = select(month, *sums).where(Case.resolved_at >= f.period.start, Case.resolved_at < f.period.end,
                                   *_case_scope(f)).group_by(month).order_by(month)
    return [{"month": m, "early": int(a), "on_time": int(b), "late": int(c), "rate": on_time_rate(a, b, c)}
            for m, a, b, c in session.execute(q)]


def backlog(session: Session, f: Filters) -> list[dict[str, Any]]:
    """Open cases now by the unit where they sit (current unit), within time vs overdue."""
    now = f.now or utcnow()
    current = Unit.__table__.alias("current_unit")
    open_now = and_(Case.process_version_id.is_not(None), Case.resolved_at.is_(None),
                    Case.status_code.not_in(ENDED))
    overdue = and_(Case.status_code != Status.SUPPLEMENT, Case.due_at < now)
    q = scoped(select(current.c.code, func.max(current.c.name),
                       func.coalesce(func.sum(case((overdue, 1), else_=0)), 0), func.count())
                .select_from(Case), f) \
        .join(current, current.c.id == Case.current_unit_id).where(open_now) \
        .group_by(current.c.code).order_by(current.c.code)
    return [{"unit": code, "name": name, "overdue": int(late), "in_time": int(total) - int(late)}
            for code, name, late, total in session.execute(q)]


# --- ratings ------------------------------------------------------------------------------------


def ratings_summary(session: Session, f: Filters) -> dict[str, Any]:
    """Average score (0–2) per criterion of the ratings given in the period for cases in scope."""
    avgs = [func.avg(Rating.scores[code].as_float()).label(code) for code, _ in CRITERIA]
    q = scoped(select(func.count(Rating.id).label("count"), *avgs).select_from(Rating)
                .join(Case, Case.id == Rating.case_id), f) \
        .where(Rating.created_at >= f.period.start, Rating.created_at < f.period.end)
    row = session.execute(q).mappings().one()
    return {"count": int(row["count"] or 0),
            "criteria": [{"code": code, "label": label,
                          "average": None if row[code] is None else round(float(row[code]), 2)}
                         for code, label in CRITERIA]}
