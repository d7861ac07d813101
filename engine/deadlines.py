"""Due dates of cases and steps, from the working-day calendar (engine/calendar.py) and the admin's
overrides stored in the database; and the functions diagrams may call in their expressions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs, reference
from engine.calendar import VN_TZ, WorkCalendar, WorkingHours
from engine.errors import Invalid, NotFound
from engine.models import CalendarOverride
from engine.sandbox import make_script_engine

_hours_text = "07:30-11:30,13:00-17:00"


def configure_hours(text: str) -> None:
    """Working hours come from configuration (MOTCUA_WORKING_HOURS); validated at start-up."""
    global _hours_text
    WorkingHours.parse(text)
    _hours_text = text
    _calendar.cache_clear()


@lru_cache(maxsize=16)
def _calendar(overrides: frozenset[tuple[date, bool]], hours: str) -> WorkCalendar:
    return WorkCalendar(dict(overrides), WorkingHours.parse(hours))


def calendar_for(session: Session) -> WorkCalendar:
    """The calendar in force: holidays plus the overrides table (cached with the reference data)."""
    return _calendar(reference.snapshot(session).overrides, _hours_text)


def due(calendar: WorkCalendar, start: datetime, days: Decimal | str | int | float | None) -> datetime | None:
    if days is None:
        return None
    return calendar.add_working_days(start, Decimal(str(days)))


def counting_start(calendar: WorkCalendar, received_at: datetime, cutoff: time | None) -> datetime:
    """When a time limit starts to run. With a cut-off (NĐ 63/2024 Điều 7 k2: "hồ sơ tiếp nhận sau 15 giờ
    thì tính từ ngày làm việc tiếp theo"), a dossier received at or after it, or on a day off, counts from
    the opening of the next working day; without one (most procedures: NĐ 118 gives no general rule), from
    its receipt."""
    if cutoff is None:
        return received_at
    local = received_at.astimezone(VN_TZ)
    if calendar.is_working_day(local.date()) and local.time() < cutoff:
        return received_at
    day = calendar.next_working_day(local.date())
    opening = calendar.hours.periods[0][0]
    return datetime(day.year, day.month, day.day, opening.hour, opening.minute, tzinfo=VN_TZ)


def parse_cutoff(text: Any) -> time | None:
    """"15:00" → 15:00; empty → None; ValueError naming the value otherwise (the catalog is checked on load)."""
    if text in (None, ""):
        return None
    try:
        hour, minute = str(text).split(":")
        return time(int(hour), int(minute))
    except ValueError as e:
        raise ValueError(f"cutoff must be HH:MM, not {text!r}") from e


def time_limit_days(catalog: dict | None, data: dict | None, default: Decimal | None) -> Decimal | None:
    """The case's time limit in working days: the catalog's `time_limits` table picks it by a field of the
    dossier (the khai tử group: 9, 6 or 18 days by the paying agency the applicant chose), else the
    procedure's own limit."""
    limits = (catalog or {}).get("time_limits") or {}
    chosen = (data or {}).get(str(limits.get("field") or ""))
    days = (limits.get("days") or {}).get(str(chosen)) if chosen not in (None, "") else None
    if days is None:
        days = limits.get("otherwise")
    return Decimal(str(days)) if days is not None else default


def case_due(calendar: WorkCalendar, catalog: dict | None, data: dict | None, received_at: datetime,
             default_days: Decimal | None) -> tuple[datetime, datetime | None]:
    """(when the clock starts, the appointment) of a case received at `received_at` — the one rule both
    the desk and a partner's message go through (engine.reception.start_processing)."""
    start = counting_start(calendar, received_at, parse_cutoff((catalog or {}).get("cutoff")))
    return start, due(calendar, start, time_limit_days(catalog, data, default_days))


def one_working_day_before(calendar: WorkCalendar, moment: datetime) -> datetime:
    """The same wall-clock time on the working day before `moment`'s day: when reminders go out and from
    when an apology (NĐ 61 Điều 19.9, "chậm nhất 01 ngày trước ngày hết hạn") may be issued."""
    local = moment.astimezone(VN_TZ)
    day = local.date() - timedelta(days=1)
    for _ in range(366):  # Tết plus weekends is about nine days; a year bounds a broken override table
        if calendar.is_working_day(day):
            break
        day -= timedelta(days=1)
    return local.replace(year=day.year, month=day.month, day=day.day)


# --- admin overrides (the yearly swaps, extra days off) ----------------------------------------------


def list_overrides(session: Session, year: int | None = None) -> list[CalendarOverride]:
    q = select(CalendarOverride).order_by(CalendarOverride.day)
    if year is not None:
        q = q.where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
    return list(session.scalars(q))


def set_override(session: Session, day: date, working: bool, note: str | None = None) -> CalendarOverride:
    """Make `day` a working day or a day off, whatever the holidays calendar says. Appointments already
    issued keep their dates; new due dates use the override."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise Invalid.of("day_must_be_date", details={"day": str(day)})
    check = inputs.Checker()
    check.moment("day", day)
    note = check.text("note", note, CalendarOverride.note) or None  # the length is the column's
    check.done()
    row = session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, working=bool(working), note=note)
        session.add(row)
    else:
        row.working, row.note = bool(working), note
    session.flush()
    return row


def public_holidays(year: int) -> list[tuple[date, str]]:
    """The package's VN holidays of `year` with their names, shown beside the overrides for reference."""
    import holidays

    cal = holidays.country_holidays("VN", years=year, language="vi")
    return sorted((d, name) for d, name in cal.items() if d.year == year)


def remove_override(session: Session, day: date) -> None:
    row = session.get(CalendarOverride, day)
    if row is None:
        raise NotFound.of("calendar_override_missing", day=f"{day:%d/%m/%Y}")
    session.delete(row)
    session.flush()


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=VN_TZ)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def script_functions(calendar: WorkCalendar) -> dict[str, Callable[..., Any]]:
    """What a diagram's scripts, conditions and timers may call (timer values must be ISO strings).
    "Now" is the running transaction's clock (engine.workflow.current_time), so `tick --now` rules."""
    from engine.workflow import current_time

    def add_working_days(start: Any, days: Any) -> str:
        return calendar.add_working_days(_as_datetime(start), Decimal(str(days))).isoformat()

    def working_days_from_now(days: Any) -> str:
        return add_working_days(current_time(), days)

    def now_iso() -> str:
        return current_time().astimezone(VN_TZ).isoformat()

    return {"add_working_days": add_working_days, "working_days_from_now": working_days_from_now,
            "now": now_iso}


@lru_cache(maxsize=16)
def script_engine(calendar: WorkCalendar) -> PythonScriptEngine:
    """One engine per calendar in force: its sandbox keeps compiled scripts between cases."""
    return make_script_engine(script_functions(calendar))


def default_script_engine() -> PythonScriptEngine:
    """The engine of a calendar without the admin's overrides: for checks outside a transaction (deploy)."""
    return script_engine(_calendar(frozenset(), _hours_text))
