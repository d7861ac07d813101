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

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Float, and_, case, exists, func, literal, not_, or_, select, true, tuple_
from sqlalchemy.orm import Session, object_session

from engine import inputs, procedure_codes
from engine.errors import Invalid
from engine.models import Case, Event, Level, Procedure, Rating, Unit, WorkItem, utcnow
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


def _filtered(q: Any, f: Filters) -> Any:
    """The subtree, field and level filters; `Unit` and `Procedure` must already be joined. The subtree takes
    in the units its units took over in a restructuring: a merged commune's cases stay in its successor's
    ledger and reports (engine.unit_history)."""
    if f.root is not None:
        from engine.unit_history import taken_over_ids

        inside = Unit.path.startswith(f.root.path)
        session = object_session(f.root)
        taken = taken_over_ids(session, f.root) if session is not None else []
        q = q.where(or_(inside, Unit.id.in_(taken)) if taken else inside)
    if f.field:
        q = q.where(Procedure.field == f.field)
    if f.level:
        q = q.where(Unit.level_code == f.level)
    return q


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
    """(key column, label column) of a grouping."""
    if group == "unit":
        return Unit.code, func.max(Unit.name)
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
    q = scoped(select(*cols).select_from(Case), f).where(_relevant(f))
    row = session.execute(q).mappings().one()
    return _with_rate(dict(row))


@dataclass
class Row:
    key: str
    label: str
    figures: dict[str, Any]


def table(session: Session, f: Filters, group: str = "unit") -> list[Row]:
    """The same figures per unit (receiving unit), field, level or procedure, in one GROUP BY."""
    key, label = _group_columns(group)
    preds = predicates(f)
    cols = [func.coalesce(func.sum(case((preds[k], 1), else_=0)), 0).label(k) for k in FIGURES]
    q = scoped(select(key.label("key"), label.label("label"), *cols).select_from(Case), f) \
        .where(_relevant(f)).group_by(key).order_by(key)
    rows = []
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


# --- per step -----------------------------------------------------------------------------------


@dataclass
class StepRow:
    unit_code: str
    unit_name: str
    step: str
    count: int
    late: int
    median_hours: float | None
    p90_hours: float | None

    @property
    def late_share(self) -> float:
        return round(self.late * 100 / self.count, 2) if self.count else 0.0


def _steps_query(f: Filters, *cols: Any) -> Any:
    q = select(*cols).select_from(WorkItem).join(Case, Case.id == WorkItem.case_id) \
        .join(Unit, Unit.id == WorkItem.unit_id).join(Procedure, Procedure.id == Case.procedure_id) \
        .where(WorkItem.state == "completed", WorkItem.completed_at >= f.period.start,
               WorkItem.completed_at < f.period.end)
    return _filtered(q, f)


def _steps_postgresql(f: Filters) -> Any:
    """The per-step table in one PostgreSQL statement that never sorts the period's steps as a whole: the
    (unit, step) pairs that ever completed a step are read off ix_work_items_steps by a skip scan (one index
    probe per pair), then for each pair in scope the steps completed in the period are a range of that index
    (unit, name, completed_at), aggregated there. At 1M cases this replaced a sort of the year's 1.9M steps by
    (unit, step) followed by a second sort per group."""
    w = WorkItem.__table__
    ahead = w.alias("w_next")
    pairs = select(w.c.unit_id, w.c.name).where(w.c.state == "completed") \
        .order_by(w.c.unit_id, w.c.name).limit(1).cte("step_pairs", recursive=True)
    after = tuple_(ahead.c.unit_id, ahead.c.name) > tuple_(pairs.c.unit_id, pairs.c.name)
    nxt = select(ahead.c.unit_id, ahead.c.name).where(ahead.c.state == "completed", after) \
        .order_by(ahead.c.unit_id, ahead.c.name).limit(1).lateral("nxt")
    pairs = pairs.union_all(select(nxt.c.unit_id, nxt.c.name).select_from(pairs).join(nxt, true()))
    done = w.alias("w_done")
    hours = func.date_part("epoch", done.c.completed_at - done.c.created_at) / 3600.0
    agg = select(func.count().label("n"), func.count().filter(done.c.timing == "late").label("late"),
                 func.percentile_cont(literal([0.5, 0.9], ARRAY(Float))).within_group(hours).label("q")) \
        .where(done.c.state == "completed", done.c.unit_id == pairs.c.unit_id, done.c.name == pairs.c.name,
               done.c.completed_at >= f.period.start, done.c.completed_at < f.period.end)
    if f.field:
        agg = agg.where(done.c.case_id.in_(select(Case.id).join(Procedure, Procedure.id == Case.procedure_id)
                                           .where(Procedure.field == f.field)))
    agg = agg.lateral("agg")
    q = select(Unit.code, Unit.name, pairs.c.name, agg.c.n, agg.c.late, agg.c.q) \
        .select_from(pairs).join(Unit, Unit.id == pairs.c.unit_id).join(agg, true()).where(agg.c.n > 0)
    return _filtered(q, replace(f, field=None))  # the field is a condition of the aggregate, above


def steps(session: Session, f: Filters) -> list[StepRow]:
    """Time spent per step (created → completed, in hours) per unit that did it: median, p90, share late.
    Percentiles in SQL on PostgreSQL (both from one sort per group, percentile_cont's linear interpolation); on
    SQLite (small deployments) over the grouped durations with the same definition."""
    out: list[StepRow] = []
    if session.get_bind().dialect.name == "postgresql":
        for code, name, step, count, n_late, (med, p90) in session.execute(_steps_postgresql(f)):
            out.append(StepRow(code, name, step, int(count), int(n_late), _round(med), _round(p90)))
    else:
        groups: dict[tuple[str, str, str], list[tuple[float, bool]]] = {}
        hours = (func.julianday(WorkItem.completed_at) - func.julianday(WorkItem.created_at)) * 24.0
        q = _steps_query(f, Unit.code, Unit.name, WorkItem.name, hours, WorkItem.timing)
        for code, name, step, h, timing in session.execute(q):
            groups.setdefault((code, name, step), []).append((float(h or 0), timing == "late"))
        for (code, name, step), values in groups.items():
            durations = sorted(v for v, _ in values)
            out.append(StepRow(code, name, step, len(values), sum(1 for _, lt in values if lt),
                               _round(_percentile(durations, 0.5)), _round(_percentile(durations, 0.9))))
    out.sort(key=lambda r: (-r.late_share, -(r.p90_hours or 0), r.unit_code, r.step))
    return out


def _percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation, the same definition as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


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
    q = scoped(select(month, *sums).select_from(Case), f) \
        .where(Case.resolved_at >= f.period.start, Case.resolved_at < f.period.end).group_by(month).order_by(month)
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
