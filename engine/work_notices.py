"""Work announces itself: when a step lands at a unit and role, everyone who may do it is told — in the bell
and, when SMTP is configured, by e-mail (the notification rows are the e-mail outbox, engine.notifications).

Who may do a step is one rule (`who_may_do`): the active users of the unit holding the role, and the deputies
of those users under a delegation running today that covers the case's procedure (engine.delegation lets a
deputy act on such a step, so they must hear of it too). It is called from the one place work items are
created (engine.projection.project: reception, every completion, a liên thông answer, a timer) and for an
online dossier that waits at the desk without any work item yet (engine.public).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import notifications, org, reference
from engine.delegation import today
from engine.models import Case, Delegation, User, WorkItem, utcnow

NEW_WORK = "new_work"  # a step opened at the user's unit and role (kind of the notification row)
ONLINE_WAITING = "online_waiting"  # an online dossier (or its supplement) waits for the desk


@dataclass(frozen=True)
class Told:
    """One person to tell: themselves (`for_name` None) or as the deputy of `for_name`."""

    user_id: int
    for_name: str | None = None


def who_may_do(session: Session, unit_id: int, roles: Iterable[str], procedure_code: str,
               now: datetime | None = None) -> list[Told]:
    """Everyone who may act on a step of `procedure_code` open to `roles` at `unit_id`: the unit's active
    holders of one of the roles, then the deputies standing in for one of them today (each person once).
    Kept per process under the reference token (users, their roles and delegations change it), per day."""
    roles = frozenset(roles)
    day = today(now)
    return list(reference.remember(
        session, ("who_may_do", unit_id, roles, procedure_code, day),
        lambda: tuple(_who_may_do(session, unit_id, roles, procedure_code, day))))


def _who_may_do(session: Session, unit_id: int, roles: frozenset[str], procedure_code: str,
                day: date) -> list[Told]:
    holders = notifications.unit_role_users(session, {(unit_id, r) for r in roles})
    told = {p.user_id: Told(p.user_id) for people in holders.values() for p in people}
    if not told:
        return []
    rows = session.execute(
        select(Delegation.delegator_id, Delegation.deputy_id, Delegation.procedures, User.full_name)
        .join(User, User.id == Delegation.delegator_id)
        .where(Delegation.delegator_id.in_(sorted(told)), Delegation.unit_id == unit_id,
               Delegation.revoked_at.is_(None), Delegation.starts <= day, Delegation.until >= day)
        .order_by(Delegation.id)).all()
    active = set(session.scalars(select(User.id).where(User.id.in_({r.deputy_id for r in rows}),
                                                       User.active.is_(True)))) if rows else set()
    for _delegator_id, deputy_id, procedures, delegator_name in rows:
        if deputy_id in active and (not procedures or procedure_code in procedures):
            told.setdefault(deputy_id, Told(deputy_id, delegator_name))
    return list(told.values())


def _deadline(item: WorkItem) -> str:
    return f", hạn {notifications.local_text(item.due_at)}" if item.due_at else ""


def _as_deputy(told: Told) -> str:
    return f" (bạn xử lý thay {told.for_name})" if told.for_name else ""


def announce_steps(session: Session, case: Case, items: Sequence[WorkItem], now: datetime | None = None,
                   kind: str = NEW_WORK) -> None:
    """Tell everyone who may do each newly opened step (written with the step's rows: engine.notifications)."""
    items = [i for i in items if not i.claimed_by_id]  # a step given to someone already is theirs alone
    if not items:
        return
    now = now or utcnow()
    procedure = reference.procedure(session, case.procedure_id)  # code and name, without loading the row
    per_unit: dict[tuple[int, str], list[Told]] = {}
    for item in items:
        key = (item.unit_id, item.role_code)
        if key not in per_unit:
            per_unit[key] = who_may_do(session, item.unit_id, [item.role_code], procedure.code, now)
    rows = [{"user_id": told.user_id, "case_id": case.id, "kind": kind, "created_at": now,
             "message": f"Hồ sơ {case.code} ({procedure.name}): có việc mới «{item.name}»{_deadline(item)}"
                        f"{_as_deputy(told)}."}
            for item in items for told in per_unit[(item.unit_id, item.role_code)]]
    notifications.add_with_step(session, rows)


def announce_at_desk(session: Session, case: Case, what: str, now: datetime | None = None) -> list[int]:
    """Tell the receiving desk (its users whose role receives dossiers, and their deputies) that an online
    dossier waits for it; `what` says why, e.g. «nộp trực tuyến» or «bổ sung trực tuyến»."""
    now = now or utcnow()
    roles = org.roles_with(session, "receives_dossiers")
    procedure = reference.procedure(session, case.procedure_id)
    people = who_may_do(session, case.receiving_unit_id, roles, procedure.code, now)
    return notifications.add_many(session, [
        {"user_id": told.user_id, "case_id": case.id, "kind": ONLINE_WAITING, "created_at": now,
         "message": f"Hồ sơ {case.code} ({procedure.name}) {what} lúc {notifications.local_text(now)}, "
                    f"chờ Bộ phận Một cửa tiếp nhận{_as_deputy(told)}."} for told in people])
