"""The scheduler: one sweep, run every few seconds by whichever process holds the lease.

A sweep reads only what is due, through two indexed columns, in LIMIT batches — never every case:
- `cases.next_timer_at` (index ix_cases_next_timer_at): BPMN timers whose moment has passed are fired
  through the case's workflow, under the case's row lock, like any other step;
- `work_items.remind_at` with `state` (index ix_work_items_remind): the next moment the sweep must look at
  an open item. It starts one working day before the due moment (the reminder); after the reminder it is
  set to the due moment itself (the overdue check); after the overdue notice it is cleared. So the index
  holds only items still waiting for something, and an idle sweep is one empty range scan per column.

Every change is a conditional UPDATE (`… WHERE remind_at < now RETURNING id`, or the timer re-checked
under the row lock), so a second sweep at the same moment — or a second scheduler that overlaps an
expiring lease — finds nothing left to do: nothing fires twice.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine import early_warning, followups, notifications
from engine.case_records import current_time
from engine.config import Settings
from engine.db import Database
from engine.metrics import SWEEP_SECONDS
from engine.models import Case, Event, Notification, SchedulerLease, Unit, WorkItem, utcnow
from engine.notifications import local_text
from engine.org import roles_with

log = logging.getLogger(__name__)

LEASE_NAME = "sweeper"
BATCH = 500
TIMER_RETRY = timedelta(minutes=5)  # a timer whose diagram fails is retried later, not every sweep


@dataclass
class SweepReport:
    """What one sweep did, for `motcua tick` and the logs."""

    now: datetime
    timers: list[str] = field(default_factory=list)  # case codes whose timers fired
    timer_errors: list[str] = field(default_factory=list)
    reminded: list[tuple[str, str]] = field(default_factory=list)  # (case code, step)
    overdue: list[tuple[str, str]] = field(default_factory=list)
    escalated: int = 0  # overdue items reported to the unit's head
    notifications: list[int] = field(default_factory=list)  # ids, for e-mail delivery after commit

    @property
    def idle(self) -> bool:
        return not (self.timers or self.timer_errors or self.reminded or self.overdue)

    def lines(self) -> list[str]:
        out = [f"sweep at {self.now.isoformat()}"]
        out += [f"timer fired: {code}" for code in self.timers]
        out += [f"timer failed: {text}" for text in self.timer_errors]
        out += [f"reminded: {code} — {step}" for code, step in self.reminded]
        out += [f"overdue: {code} — {step}" for code, step in self.overdue]
        out.append(f"{len(self.timers)} timer(s), {len(self.reminded)} reminder(s), {len(self.overdue)} overdue, "
                   f"{self.escalated} escalated, {len(self.notifications)} notification(s)")
        return out


# --- the sweep ---------------------------------------------------------------------------------------


def sweep(target: Database | Session, now: datetime | None = None, settings: Settings | None = None,
          batch: int = BATCH) -> SweepReport:
    """One pass as of `now`. With a Database each batch (and each timer case) commits on its own; with a
    Session everything runs in the caller's transaction. The notifications it writes are mailed by the
    outbox job (`deliver_outbox`), not here: the sweep is the lease holder's work, mail is anyone's."""
    now = current_time(now)
    report = SweepReport(now=now)
    if isinstance(target, Session):
        _fire_timers(lambda: _same(target), now, report, batch)
        while _items_batch(target, now, report, batch):
            pass
        report.notifications += followups.notify_due(target, now)  # officials' own "nhắc lại"
        report.notifications += early_warning.notify_crossed(target, now)
        return report
    _fire_timers(target.transaction, now, report, batch)
    while True:
        with target.transaction() as s:
            more = _items_batch(s, now, report, batch)
        if not more:
            break
    with target.transaction() as s:
        report.notifications += followups.notify_due(s, now)  # officials' own "nhắc lại"
        report.notifications += early_warning.notify_crossed(s, now)
    return report


class _same:
    """A context manager that hands out the caller's session without committing it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc: Any) -> None:
        return None


def _fire_timers(transaction: Any, now: datetime, report: SweepReport, batch: int) -> None:
    from engine.case_records import lock_case
    from engine.projection import fire_timers

    after: tuple[datetime, int] | None = None
    while True:
        with transaction() as s:
            q = select(Case.id, Case.next_timer_at).where(Case.next_timer_at < now)
            if after is not None:
                q = q.where(or_(Case.next_timer_at > after[0], and_(Case.next_timer_at == after[0],
                                                                   Case.id > after[1])))
            due = s.execute(q.order_by(Case.next_timer_at, Case.id).limit(batch)).all()
        if not due:
            return
        after = (due[-1][1], due[-1][0])
        for case_id, _at in due:
            try:
                with transaction() as s:
                    case = lock_case(s, case_id)
                    if case.next_timer_at is None or case.next_timer_at >= now:
                        continue  # fired meanwhile (another sweep) or completed
                    if fire_timers(s, case, now):
                        report.timers.append(case.code)
                        report.notifications += _notify_timer_steps(s, case, now)
            except Exception as e:  # noqa: BLE001 — one broken diagram must not stop the sweep
                log.exception("timer of case %s failed", case_id)
                with transaction() as s:
                    case = s.get(Case, case_id)
                    case.error = f"timer: {e}"
                    case.next_timer_at = now + TIMER_RETRY
                    s.add(Event(case_id=case.id, kind="timer_error", at=now, data={"message": str(e)}))
                    report.timer_errors.append(f"{case.code}: {e}")
        if len(due) < batch:
            return


def _notify_timer_steps(s: Session, case: Case, now: datetime) -> list[int]:
    """The notices of the steps a timer opened (an escalation path): engine.projection wrote them with the
    steps (engine.work_notices); their ids go in the sweep's report."""
    return list(s.scalars(select(Notification.id).where(Notification.case_id == case.id, Notification.kind == "timer",
                                                        Notification.created_at == now)))


def _items_batch(s: Session, now: datetime, report: SweepReport, batch: int) -> bool:
    """Reminders and overdue marks for up to `batch` open items whose wake-up moment passed.
    Returns whether there may be more."""
    rows = s.execute(
        select(WorkItem.id, WorkItem.due_at, WorkItem.remind_at, WorkItem.created_at, WorkItem.overdue_marked_at)
        .where(WorkItem.state == "open", WorkItem.remind_at < now)
        .order_by(WorkItem.remind_at, WorkItem.id).limit(batch)).all()
    if not rows:
        return False
    overdue_ids, remind_ids, quiet_ids = [], [], []
    for item_id, due_at, remind_at, created_at, marked in rows:
        if due_at is None or marked is not None:
            quiet_ids.append(item_id)  # nothing left to announce; drop it from the index
        elif due_at < now:
            overdue_ids.append(item_id)
        elif remind_at <= created_at:
            quiet_ids.append(item_id)  # born within its last working day: the inbox shows it as due soon
        else:
            remind_ids.append(item_id)
    base = update(WorkItem).where(WorkItem.state == "open", WorkItem.remind_at < now)
    # Each UPDATE re-checks its condition, so a row handled meanwhile is skipped, never done twice.
    overdue = _returning(s, base.where(WorkItem.id.in_(overdue_ids), WorkItem.overdue_marked_at.is_(None))
                         .values(overdue_marked_at=now, remind_at=None)) if overdue_ids else []
    reminded = _returning(s, base.where(WorkItem.id.in_(remind_ids)).values(remind_at=WorkItem.due_at)) \
        if remind_ids else []
    if quiet_ids:
        s.execute(base.where(WorkItem.id.in_(quiet_ids), WorkItem.due_at.is_not(None),
                             WorkItem.overdue_marked_at.is_(None)).values(remind_at=WorkItem.due_at))
        s.execute(base.where(WorkItem.id.in_(quiet_ids), or_(WorkItem.due_at.is_(None),
                                                            WorkItem.overdue_marked_at.is_not(None)))
                  .values(remind_at=None))
    if overdue or reminded:
        _announce(s, now, overdue, reminded, report)
    return len(rows) == batch


def _returning(s: Session, stmt: Any) -> list[int]:
    return list(s.scalars(stmt.returning(WorkItem.id).execution_options(synchronize_session=False)))


def _announce(s: Session, now: datetime, overdue: list[int], reminded: list[int], report: SweepReport) -> None:
    items = s.execute(
        select(WorkItem.id, WorkItem.case_id, WorkItem.name, WorkItem.task_bpmn_id, WorkItem.unit_id,
               WorkItem.role_code, WorkItem.claimed_by_id, WorkItem.due_at, Case.code, Unit.name.label("unit_name"))
        .join(Case, Case.id == WorkItem.case_id).join(Unit, Unit.id == WorkItem.unit_id)
        .where(WorkItem.id.in_(overdue + reminded))).all()
    overdue_set = set(overdue)
    # Who is told of an overdue step: the holders of the roles marked escalation_target at its unit.
    escalation_roles = roles_with(s, "escalation_target") if overdue else []
    pairs = {(it.unit_id, it.role_code) for it in items} | {(it.unit_id, r) for it in items
                                                             if it.id in overdue_set for r in escalation_roles}
    who = notifications.unit_role_users(s, pairs)
    events: list[dict] = []
    notes: list[dict] = []
    for it in items:
        assignees = [it.claimed_by_id] if it.claimed_by_id else [r.user_id for r in who[(it.unit_id, it.role_code)]]
        due_text = local_text(it.due_at)
        common = {"case_id": it.case_id, "at": now, "step": it.name, "step_bpmn_id": it.task_bpmn_id,
                  "step_due_at": it.due_at, "from_unit_id": it.unit_id}
        if it.id in overdue_set:
            report.overdue.append((it.code, it.name))
            events.append({**common, "kind": "overdue", "data": {"item_id": it.id, "notified": assignees}})
            notes += [{"user_id": u, "case_id": it.case_id, "kind": "overdue", "created_at": now,
                       "message": f"Hồ sơ {it.code}: bước «{it.name}» đã quá hạn xử lý (hạn {due_text})."}
                      for u in assignees]
            heads = list(dict.fromkeys(r.user_id for role in escalation_roles for r in who[(it.unit_id, role)]
                                       if r.user_id not in assignees))
            if heads:
                report.escalated += 1
                events.append({**common, "kind": "escalated", "data": {"item_id": it.id, "heads": heads}})
                notes += [{"user_id": u, "case_id": it.case_id, "kind": "escalated", "created_at": now,
                           "message": f"Hồ sơ {it.code}: bước «{it.name}» tại {it.unit_name} quá hạn từ {due_text}; "
                                      f"đề nghị lãnh đạo đôn đốc xử lý."} for u in heads]
        else:
            report.reminded.append((it.code, it.name))
            events.append({**common, "kind": "reminder", "data": {"item_id": it.id, "notified": assignees}})
            notes += [{"user_id": u, "case_id": it.case_id, "kind": "reminder", "created_at": now,
                       "message": f"Hồ sơ {it.code}: bước «{it.name}» đến hạn lúc {due_text}, "
                                  f"còn một ngày làm việc."} for u in assignees]
    if events:
        s.connection().execute(insert(Event.__table__), events)  # Core executemany: no ORM bookkeeping
    report.notifications += notifications.add_many(s, notes)


# --- the lease: exactly one active scheduler ---------------------------------------------------------


def acquire_lease(session: Session, holder: str, now: datetime, seconds: float) -> bool:
    """Take or renew the sweeper lease until now + seconds. Atomic on PostgreSQL and SQLite: the UPDATE
    only matches an expired lease or our own; a missing row is inserted with ON CONFLICT DO NOTHING."""
    until = now + timedelta(seconds=seconds)
    res = session.execute(update(SchedulerLease)
                          .where(SchedulerLease.name == LEASE_NAME,
                                 or_(SchedulerLease.expires_at < now, SchedulerLease.holder == holder))
                          .values(holder=holder, expires_at=until)
                          .execution_options(synchronize_session=False))
    if res.rowcount == 1:
        return True
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(SchedulerLease)
    # RETURNING, not rowcount: an ORM-enabled INSERT on psycopg reports rowcount -1, so the first scheduler
    # on a fresh database believed it had lost and swept one tick late.
    res = session.execute(ins.values(name=LEASE_NAME, holder=holder, expires_at=until)
                          .on_conflict_do_nothing(index_elements=[SchedulerLease.name])
                          .returning(SchedulerLease.name))
    return res.scalar() is not None


def release_lease(session: Session, holder: str, now: datetime | None = None) -> None:
    """Give the lease up (clean shutdown) so another scheduler takes over at its next tick."""
    session.execute(update(SchedulerLease).where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
                    .values(expires_at=now or utcnow()).execution_options(synchronize_session=False))


def lease_holder(session: Session) -> tuple[str, datetime] | None:
    row = session.get(SchedulerLease, LEASE_NAME)
    return (row.holder, row.expires_at) if row else None


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Sweeper:
    """One scheduler process's job: renew the lease, and sweep only while holding it."""

    def __init__(self, database: Database, settings: Settings, holder: str | None = None) -> None:
        self.database, self.settings = database, settings
        self.holder = holder or holder_name()
        self.active = False
        self._lock = threading.Lock()

    def tick(self, now: datetime | None = None) -> SweepReport | None:
        with self._lock:
            now = now or utcnow()
            try:
                with self.database.transaction() as s:
                    held = acquire_lease(s, self.holder, now, self.settings.lease_seconds)
            except Exception:  # noqa: BLE001 — database away: try again at the next tick
                log.exception("scheduler %s could not reach the database", self.holder)
                held = False
            if held != self.active:
                log.info("scheduler %s %s the lease", self.holder, "holds" if held else "lost")
                self.active = held
            if not held:
                return None
            with SWEEP_SECONDS.time():
                report = sweep(self.database, now, self.settings)
            if not report.idle:
                for line in report.lines()[1:]:
                    log.info("%s", line)
            return report

    def stop(self) -> None:
        if self.active:
            try:
                with self.database.transaction() as s:
                    release_lease(s, self.holder)
            except Exception:  # noqa: BLE001 — exiting anyway; the lease just expires
                log.warning("scheduler %s could not release the lease", self.holder)
            self.active = False


def _job(sweeper: Sweeper) -> None:
    try:
        sweeper.tick()
    except Exception:  # noqa: BLE001 — keep the job alive; the next tick retries
        log.exception("sweep failed")


def deliver_outbox(database: Database, settings: Settings, now: datetime | None = None) -> notifications.OutboxReport:
    """The outbox job: mail every due notification. It runs in every scheduler process whether or not it
    holds the lease — rows are claimed one sender at a time — so mail keeps going out during a fail-over."""
    report = notifications.OutboxReport()
    while True:
        batch = notifications.send_outbox(database, settings, now)
        report.sent += batch.sent
        report.failed += batch.failed
        report.gave_up += batch.gave_up
        if len(batch.sent) + len(batch.failed) + len(batch.gave_up) < notifications.BATCH or not batch.sent:
            return report


def _outbox_job(database: Database, settings: Settings) -> None:
    try:
        report = deliver_outbox(database, settings)
        if report.sent or report.failed:
            log.info("outbox: %s mail(s) sent, %s to retry", len(report.sent), len(report.failed))
    except Exception:  # noqa: BLE001 — database or mail server away: the rows wait for the next run
        log.exception("outbox run failed")


def _lienthong_job(database: Database, settings: Settings) -> None:
    """Deliver liên thông messages: in every scheduler process, outside the lease like the mail outbox."""
    from engine import lienthong_deadlines, lienthong_outbox, partners

    try:
        identity = partners.ensure_identity(settings.instance_path, settings.agency_code)
        report = lienthong_outbox.dispatch(database, settings, identity)
        lienthong_deadlines.check(database)  # NĐ 63/2024: sync ≤ 10 minutes, acknowledgement ≤ 2 working hours
        if report.delivered or report.failed or report.incidents:
            log.info("liên thông: %s delivered, %s to retry, %s incident(s)", len(report.delivered),
                     len(report.failed), len(report.incidents))
    except Exception:  # noqa: BLE001 — database or partner away: the rows wait for the next run
        log.exception("liên thông dispatch failed")


def _add_jobs(scheduler: Any, sweeper: Sweeper) -> None:
    settings = sweeper.settings
    scheduler.add_job(_job, "interval", args=[sweeper], seconds=settings.sweep_seconds, id="sweep",
                      max_instances=1, coalesce=True, next_run_time=utcnow())
    scheduler.add_job(_lienthong_job, "interval", args=[sweeper.database, settings],
                      seconds=min(settings.sweep_seconds, 1.0), id="lienthong", max_instances=1, coalesce=True,
                      next_run_time=utcnow())
    if settings.smtp_host:
        scheduler.add_job(_outbox_job, "interval", args=[sweeper.database, settings], seconds=settings.sweep_seconds,
                          id="outbox", max_instances=1, coalesce=True, next_run_time=utcnow())


def start_background(database: Database, settings: Settings) -> Any:
    """In-process scheduler (`motcua serve`): an APScheduler interval job that sweeps while it holds the
    lease. Several web workers may call this; only the lease holder sweeps."""
    from apscheduler.schedulers.background import BackgroundScheduler

    sweeper = Sweeper(database, settings)
    scheduler = BackgroundScheduler(timezone="UTC")
    _add_jobs(scheduler, sweeper)
    scheduler.start()

    def _stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        sweeper.stop()

    atexit.register(_stop)
    scheduler.motcua_sweeper = sweeper  # type: ignore[attr-defined]
    return scheduler


def run_forever(database: Database, settings: Settings, holder: str | None = None) -> None:
    """`motcua scheduler`: the same job in the foreground until SIGINT/SIGTERM, then release the lease."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    sweeper = Sweeper(database, settings, holder)
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, sweeper)

    def _terminate(_signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _terminate)
    log.info("scheduler %s started: sweep every %ss, lease %ss", sweeper.holder, settings.sweep_seconds,
             settings.lease_seconds)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        sweeper.stop()
