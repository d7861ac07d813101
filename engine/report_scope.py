"""Who may read a report and on what: the period (whole local days, Asia/Ho_Chi_Minh), the unit subtree
the caller may see, the field and level filters — parsed and authorised once for pages, API and CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs
from engine.calendar import VN_TZ
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Level, Procedure, Unit, User, utcnow


@dataclass(frozen=True)
class Period:
    """Whole local days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=VN_TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        nxt = self.last + timedelta(days=1)
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=VN_TZ).astimezone(UTC)

    @property
    def label(self) -> str:
        return f"{self.first:%d/%m/%Y} – {self.last:%d/%m/%Y}"


def parse_period(first: str | None, last: str | None, today: date | None = None) -> Period:
    """`YYYY-MM-DD` strings; missing values mean this year up to today."""
    today = today or utcnow().astimezone(VN_TZ).date()
    try:
        a = date.fromisoformat(first) if first else date(today.year, 1, 1)
        b = date.fromisoformat(last) if last else today
    except ValueError:
        raise Invalid.of("report_dates",
                      details={"from": first, "to": last}) from None
    check = inputs.Checker()  # year 0001 or 9999 overflows when the period becomes moments
    check.moment("from", a)
    check.moment("to", b)
    check.done()
    if a > b:
        raise Invalid.of("report_period_order", details={"from": first, "to": last})
    if (b - a).days > 3660:
        raise Invalid.of("report_period_max")
    return Period(a, b)


def ensure_reporter(user: User) -> None:
    if not user.can("reads_reports"):
        raise Forbidden.of("reports_forbidden")


def scope_root(session: Session, user: User, unit_code: str | None = None) -> Unit | None:
    """The unit whose subtree the report covers (None: everything, for an admin without a unit filter).
    A unit outside the caller's own subtree is refused."""
    ensure_reporter(user)
    own = None if user.has_role("admin") else user.unit
    if not unit_code:
        return own
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise NotFound.of("unit_not_found", code=unit_code)
    if own is not None and not unit.path.startswith(own.path):
        raise Forbidden.of("unit_outside_subtree", code=unit_code)
    return unit


@dataclass(frozen=True)
class Filters:
    period: Period
    root: Unit | None = None
    field: str | None = None
    level: str | None = None
    now: datetime | None = None

    @property
    def cutoff(self) -> datetime:
        """Overdue is judged at the period end, or now when the period is not over yet."""
        now = self.now or utcnow()
        return min(self.period.end, now)


def filters_for(session: Session, user: User, first: str | None, last: str | None, unit: str | None = None,
                field: str | None = None, level: str | None = None, now: datetime | None = None) -> Filters:
    """Parse and authorise a report request in one call (pages and API share it)."""
    check = inputs.Checker()
    unit = check.text("unit", unit, Unit.code) or None
    field = check.text("field", field, Procedure.field) or None
    level = check.text("level", level, Level.code) or None
    check.done()
    root = scope_root(session, user, unit or None)
    if level and session.get(Level, level) is None:
        raise Invalid.of("level_not_found", code=level, details={"level": level})
    today = (now or utcnow()).astimezone(VN_TZ).date()
    return Filters(parse_period(first, last, today), root, field or None, level or None, now)


def fields(session: Session) -> list[str]:
    return [f for f in session.scalars(select(Procedure.field).distinct().order_by(Procedure.field)) if f]


def units_in_scope(session: Session, user: User) -> list[Unit]:
    ensure_reporter(user)
    q = select(Unit).order_by(Unit.path)
    if not user.has_role("admin"):
        q = q.where(Unit.path.startswith(user.unit.path))
    return list(session.scalars(q))


def levels(session: Session) -> list[Level]:
    return list(session.scalars(select(Level).order_by(Level.rank)))
