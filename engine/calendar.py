"""Working-day arithmetic: the ONE place that says how working days (ngày làm việc) count.

Rules (see docs/time-limits.md):
- A working day is Monday–Friday, minus the public holidays of the `holidays` package's VN calendar
  (Bộ luật Lao động 2019, Điều 112, including its nghỉ bù days), plus the Saturdays that the package
  knows were made working days by an announced swap; admin overrides win over all of that.
- The day of receipt is not counted (Bộ luật Dân sự 2015, Điều 147), whatever the hour of receipt.
- N whole days end at the close of the last working period of the Nth working day after receipt;
  a fractional part is counted in working hours from the opening of the next working day.

Pure: no Flask, no SQLAlchemy. The overrides table is read elsewhere (engine/deadlines.py).
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

__all__ = ["DEFAULT_HOURS", "VN_TZ", "Timing", "WorkCalendar", "WorkingHours", "classify"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

Timing = Literal["early", "on_time", "late"]

_ONE = Decimal(1)
_RATIO_QUANTUM = Decimal("0.0001")  # working_days_between: ~3 s of an 8-hour day; enough for reports
_PERIOD_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MIN_YEAR, _MAX_YEAR = 1, 9999


def _parse_time(h: str, m: str, text: str) -> time:
    hour, minute = int(h), int(m)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"bad time in working hours {text!r}")
    return time(hour, minute)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class WorkingHours:
    """The office's opening periods (giờ làm việc) of one working day, in order, not overlapping."""

    periods: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("working hours need at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            if any(t.second or t.microsecond or t.tzinfo for t in (start, end)):
                raise ValueError("working periods are whole minutes of naive local time")
            if start >= end:
                raise ValueError(f"working period {start:%H:%M}-{end:%H:%M} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("working periods must be in order and must not overlap")
            previous_end = end

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """"07:30-11:30,13:00-17:00" → WorkingHours; ValueError on anything else."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("working hours text is empty")
        periods = []
        for part in text.split(","):
            match = _PERIOD_RE.match(part)
            if not match:
                raise ValueError(f"bad working period {part.strip()!r} in {text!r} (expected HH:MM-HH:MM)")
            h1, m1, h2, m2 = match.groups()
            periods.append((_parse_time(h1, m1, text), _parse_time(h2, m2, text)))
        return cls(tuple(periods))

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(e) - _minutes(s) for s, e in self.periods)

    @property
    def hours_per_day(self) -> Decimal:
        return Decimal(self.minutes_per_day) / Decimal(60)

    def __str__(self) -> str:
        return ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.periods)


DEFAULT_HOURS = WorkingHours()


@lru_cache(maxsize=512)
def _package_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, Saturdays/Sundays made working) of `year` per holidays.VN. Neighbouring years are
    populated too because an observed or swapped day can be filed under the adjacent year."""
    years = [y for y in (year - 1, year, year + 1) if _MIN_YEAR <= y <= _MAX_YEAR]
    cal = holidays.country_holidays("VN", years=years)
    off = frozenset(d for d in cal if d.year == year)
    worked = frozenset(d for d in getattr(cal, "weekend_workdays", ()) if d.year == year)
    return off, worked


def _to_local(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=VN_TZ)  # naive = Vietnamese wall-clock time
    return value.astimezone(VN_TZ)


def _to_date(value: date) -> date:
    return _to_local(value).date() if isinstance(value, datetime) else value


def _to_days(value: Decimal | int | float | str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a number of days cannot be a bool")
    try:
        if isinstance(value, Decimal):
            n = value
        elif isinstance(value, int):
            n = Decimal(value)
        elif isinstance(value, float | str):
            n = Decimal(str(value).strip())  # str(float) so 0.1 stays 0.1, not its binary expansion
        else:
            raise TypeError(f"days must be Decimal, int, float or str, not {type(value).__name__}")
    except InvalidOperation:
        raise ValueError(f"not a number of days: {value!r}") from None
    if not n.is_finite():
        raise ValueError(f"not a number of days: {value!r}")
    if n < 0:
        raise ValueError(f"a number of days cannot be negative: {value!r}")
    return n


class _State:
    """Working days of a contiguous range of loaded years. Replaced whole, never mutated, so readers in
    other threads always see a consistent snapshot."""

    __slots__ = ("first", "last", "ords", "work")

    def __init__(self, first: int, last: int, ords: list[int]) -> None:
        self.first = first  # ordinal of 1 January of the first loaded year
        self.last = last  # ordinal of 31 December of the last loaded year
        self.ords = ords  # sorted ordinals of working days in [first, last]
        self.work = frozenset(ords)


class WorkCalendar:
    """Working days and working time. Instances are immutable from the outside and safe to share."""

    def __init__(
        self, overrides: Mapping[date, bool] | None = None, hours: WorkingHours = DEFAULT_HOURS
    ) -> None:
        self.overrides: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            self.overrides[_to_date(day)] = bool(working)
        self.hours = hours
        # Periods in minutes and seconds after midnight, precomputed: every case and step calls in here.
        self._periods = tuple((_minutes(s), _minutes(e)) for s, e in hours.periods)
        self._day_minutes = hours.minutes_per_day
        self._day_seconds = self._day_minutes * 60
        self._end_h, self._end_m = divmod(self._periods[-1][1], 60)
        self._years: dict[int, list[int]] = {}
        self._lo = self._hi = 0
        self._state = _State(1, 0, [])
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------------------------------

    def _year_days(self, year: int) -> list[int]:
        days = self._years.get(year)
        if days is None:
            off, worked = _package_year(year)
            days = []
            first = date(year, 1, 1).toordinal()
            last = date(year, 12, 31).toordinal()
            for o in range(first, last + 1):
                d = date.fromordinal(o)
                working = (d.weekday() < 5 and d not in off) or d in worked
                working = self.overrides.get(d, working)  # the admin's word wins
                if working:
                    days.append(o)
            self._years[year] = days
        return days

    def _load(self, lo: int, hi: int) -> _State:
        """Make sure years lo..hi are loaded; returns the (possibly new) snapshot."""
        if not (_MIN_YEAR <= lo and hi <= _MAX_YEAR):
            raise ValueError("date outside the supported calendar range")
        with self._lock:
            state = self._state
            if self._lo and self._lo <= lo and hi <= self._hi:
                return state
            new_lo = min(lo, self._lo) if self._lo else lo
            new_hi = max(hi, self._hi) if self._hi else hi
            ords: list[int] = []
            for y in range(new_lo, new_hi + 1):
                ords.extend(self._year_days(y))
            state = _State(date(new_lo, 1, 1).toordinal(), date(new_hi, 12, 31).toordinal(), ords)
            self._state, self._lo, self._hi = state, new_lo, new_hi
            return state

    def _covering(self, o: int) -> _State:
        state = self._state
        if state.first <= o <= state.last:
            return state
        y = date.fromordinal(o).year
        return self._load(y, y)

    def _nth_after(self, o: int, n: int) -> int:
        """Ordinal of the nth (n >= 1) working day strictly after ordinal o."""
        state = self._covering(o)
        i = bisect_right(state.ords, o) + n - 1
        if i >= len(state.ords):
            # Past the loaded years (rare): load, in one go, enough years for >= 240 working days a year;
            # an absurd n fails fast with "outside the supported calendar range".
            year = date.fromordinal(o).year
            state = self._load(year, year + n // 240 + 1)
            while i >= len(state.ords):
                state = self._load(self._hi + 1, self._hi + 1)
        return state.ords[i]

    # -- public API ------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        o = _to_date(d).toordinal()
        return o in self._covering(o).work

    def next_working_day(self, d: date) -> date:
        """First working day strictly after d."""
        return date.fromordinal(self._nth_after(_to_date(d).toordinal(), 1))

    def add_working_days(self, start: datetime, days: Decimal | int | float | str) -> datetime:
        """Due moment of a time limit of `days` working days for a dossier received at `start`."""
        n = _to_days(days)
        o = _to_local(start).date().toordinal()
        whole = int(n)
        if n == whole:
            if whole == 0:  # "trả trong ngày": today if today is a working day, else the next one
                target = o if o in self._covering(o).work else self._nth_after(o, 1)
            else:
                target = self._nth_after(o, whole)
            return self._at(target, self._end_h, self._end_m)
        # Fraction f: f × hours_per_day of working time into the following working day, from its opening.
        target = self._nth_after(o, whole + 1)
        offset = int(((n - whole) * self._day_minutes).quantize(_ONE, rounding=ROUND_HALF_UP))
        for s, e in self._periods:
            if offset <= e - s:  # "<=": exactly a morning's worth ends at 11:30, not at 13:00
                return self._at(target, *divmod(s + offset, 60))
            offset -= e - s
        return self._at(target, self._end_h, self._end_m)  # unreachable: offset <= minutes per day

    def working_days_between(self, start: datetime, end: datetime) -> Decimal:
        """Working time elapsed from start to end, in days of hours_per_day (rounded to 0.0001 day)."""
        s, e = _to_local(start), _to_local(end)
        if e <= s:
            return Decimal(0)
        so, eo = s.date().toordinal(), e.date().toordinal()
        s_sec = s.hour * 3600 + s.minute * 60 + s.second
        e_sec = e.hour * 3600 + e.minute * 60 + e.second
        state = self._covering(so)
        if not state.first <= eo <= state.last:
            state = self._load(s.year, e.year)
        if so == eo:
            seconds = self._worked(state, so, s_sec, e_sec)
        else:
            full_days = bisect_left(state.ords, eo) - bisect_right(state.ords, so)
            seconds = (self._worked(state, so, s_sec, 86400) + full_days * self._day_seconds
                       + self._worked(state, eo, 0, e_sec))
        ratio = Decimal(seconds) / Decimal(self._day_seconds)
        return ratio.quantize(_RATIO_QUANTUM, rounding=ROUND_HALF_UP)

    # -- helpers ---------------------------------------------------------------------------------------

    def _worked(self, state: _State, o: int, a: int, b: int) -> int:
        """Working seconds of day o between a and b seconds after midnight."""
        if o not in state.work:
            return 0
        total = 0
        for ps, pe in self._periods:
            lo, hi = max(a, ps * 60), min(b, pe * 60)
            if hi > lo:
                total += hi - lo
        return total

    @staticmethod
    def _at(o: int, hour: int, minute: int) -> datetime:
        d = date.fromordinal(o)
        return datetime(d.year, d.month, d.day, hour, minute, tzinfo=VN_TZ)


def classify(finished_at: datetime, due_at: datetime) -> Timing:
    """The one rule for live views, the control slip (phiếu kiểm soát) and reports:
    late (trễ hạn) after the due moment; early (trước hạn) on a calendar day before the due day;
    otherwise on time (đúng hạn) — i.e. done on the due day itself, up to the due moment."""
    finished, due = _to_local(finished_at), _to_local(due_at)
    if finished > due:
        return "late"
    if finished.date() < due.date():
        return "early"
    return "on_time"
