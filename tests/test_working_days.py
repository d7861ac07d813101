"""Working-day arithmetic (engine/calendar.py): what an official checking a receipt or a report would notice.

Reference week (no holidays): Mon 03/03/2025 … Fri 07/03/2025, Mon 10/03 … Fri 14/03/2025.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.calendar import DEFAULT_HOURS, VN_TZ, WorkCalendar, WorkingHours, classify

CAL = WorkCalendar()


def vn(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


MON, FRI, SAT = vn(2025, 3, 3), vn(2025, 3, 7), vn(2025, 3, 8)

# -- add_working_days: examples ------------------------------------------------------------------------


def test_three_working_days_from_friday_is_wednesday_at_close() -> None:
    assert CAL.add_working_days(FRI, 3) == vn(2025, 3, 12, 17, 0)


@pytest.mark.parametrize(("days", "expected"), [
    ("0.5", vn(2025, 3, 4, 11, 30)),   # a morning's work: Tuesday at the end of the morning
    ("1.5", vn(2025, 3, 5, 11, 30)),
    ("0.25", vn(2025, 3, 4, 9, 30)),
    ("0.75", vn(2025, 3, 4, 15, 0)),   # 6 h: the morning plus 2 h after the lunch break
    (1, vn(2025, 3, 4, 17, 0)),
    ("2.5", vn(2025, 3, 6, 11, 30)),
])
def test_fractional_days_count_working_hours_from_the_next_morning(days: object, expected: datetime) -> None:
    assert CAL.add_working_days(MON, days) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [Decimal("1.5"), "1.5", 1.5, " 1.5 "])
def test_days_accepted_as_decimal_str_or_float(days: object) -> None:
    assert CAL.add_working_days(MON, days) == vn(2025, 3, 5, 11, 30)  # type: ignore[arg-type]


def test_result_is_rounded_to_the_minute() -> None:
    assert CAL.add_working_days(MON, "0.1") == vn(2025, 3, 4, 8, 18)  # 48 min
    assert CAL.add_working_days(MON, "0.3333") == vn(2025, 3, 4, 10, 10)  # 159.98 min → 160


def test_receipt_on_saturday_counts_from_monday() -> None:
    assert CAL.add_working_days(SAT, 1) == vn(2025, 3, 10, 17, 0)
    assert CAL.add_working_days(SAT, 3) == CAL.add_working_days(FRI, 3)


@pytest.mark.parametrize(("hh", "mm"),
                         [(0, 0), (7, 0), (7, 30), (15, 1), (16, 59), (17, 0), (20, 0), (23, 59)])
def test_hour_of_receipt_does_not_change_the_due_date(hh: int, mm: int) -> None:
    assert CAL.add_working_days(vn(2025, 3, 3, hh, mm), 2) == vn(2025, 3, 5, 17, 0)


def test_zero_days_is_the_end_of_the_receipt_day_or_of_the_next_working_day() -> None:
    assert CAL.add_working_days(MON, 0) == vn(2025, 3, 3, 17, 0)
    assert CAL.add_working_days(SAT, 0) == vn(2025, 3, 10, 17, 0)


@pytest.mark.parametrize("days", [-1, "-0.5", Decimal("-1"), "abc", "", "NaN", float("inf")])
def test_bad_day_counts_are_refused(days: object) -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(MON, days)  # type: ignore[arg-type]


def test_naive_input_is_vietnamese_time_and_output_is_in_vn_tz() -> None:
    assert CAL.add_working_days(datetime(2025, 3, 7, 9, 0), 3) == vn(2025, 3, 12, 17, 0)
    # 18:00 UTC on Thursday is 01:00 on Friday in Hà Nội: received Friday, not Thursday.
    due = CAL.add_working_days(datetime(2025, 3, 6, 18, 0, tzinfo=UTC), 1)
    assert due == vn(2025, 3, 10, 17, 0)
    assert due.tzinfo == VN_TZ and due.utcoffset() == timedelta(hours=7)


def test_custom_office_hours() -> None:
    hours = WorkingHours.parse("08:00-12:00,13:30-17:30")
    cal = WorkCalendar(hours=hours)
    assert cal.add_working_days(FRI, 3) == vn(2025, 3, 12, 17, 30)
    assert cal.add_working_days(MON, "0.5") == vn(2025, 3, 4, 12, 0)
    assert cal.add_working_days(MON, "0.625") == vn(2025, 3, 4, 14, 30)


# -- working hours ---------------------------------------------------------------------------------------


def test_default_hours() -> None:
    assert DEFAULT_HOURS.periods == ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))
    assert DEFAULT_HOURS.hours_per_day == Decimal(8)
    assert WorkingHours.parse(" 07:30-11:30 , 13:00-17:00 ") == DEFAULT_HOURS
    assert WorkingHours.parse("07:00-11:15").hours_per_day == Decimal("4.25")
    assert str(DEFAULT_HOURS) == "07:30-11:30,13:00-17:00"


@pytest.mark.parametrize("text", ["", "07:30", "7h30-11h30", "11:30-07:30", "07:30-07:30", "25:00-26:00",
                                  "07:30-11:30,11:00-17:00", "13:00-17:00,07:30-11:30", "07:30-11:30,"])
def test_bad_working_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        WorkingHours.parse(text)


# -- is_working_day / next_working_day ----------------------------------------------------------------


def test_working_days_follow_the_package_and_the_overrides() -> None:
    assert CAL.is_working_day(date(2025, 3, 3))
    assert not CAL.is_working_day(date(2025, 3, 8))  # Saturday
    assert not CAL.is_working_day(date(2026, 2, 17))  # mùng 1 Tết Bính Ngọ
    assert CAL.is_working_day(date(2026, 8, 22))  # Saturday worked by the announced 2/9/2026 swap
    cal = WorkCalendar({date(2025, 3, 8): True, date(2025, 3, 4): False, date(2026, 2, 17): True})
    assert cal.is_working_day(date(2025, 3, 8))
    assert not cal.is_working_day(date(2025, 3, 4))
    assert cal.is_working_day(date(2026, 2, 17))


def test_next_working_day_is_strictly_after() -> None:
    assert CAL.next_working_day(date(2025, 3, 3)) == date(2025, 3, 4)
    assert CAL.next_working_day(date(2025, 3, 7)) == date(2025, 3, 10)
    assert CAL.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert CAL.next_working_day(date(2025, 12, 31)) == date(2026, 1, 2)


# -- working_days_between ----------------------------------------------------------------------------


def test_time_spent_counts_only_working_hours() -> None:
    assert CAL.working_days_between(vn(2025, 3, 3, 7, 30), vn(2025, 3, 3, 17, 0)) == 1
    assert CAL.working_days_between(vn(2025, 3, 3, 9, 0), vn(2025, 3, 5, 11, 30)) == Decimal("2.3125")
    assert CAL.working_days_between(vn(2025, 3, 3, 11, 30), vn(2025, 3, 3, 13, 0)) == 0  # lunch
    assert CAL.working_days_between(vn(2025, 3, 7, 17, 0), vn(2025, 3, 10, 7, 30)) == 0  # weekend
    assert CAL.working_days_between(vn(2025, 3, 3, 9, 0), vn(2025, 3, 3, 8, 0)) == 0  # end before start
    assert CAL.working_days_between(vn(2026, 2, 13, 13, 0), vn(2026, 2, 23, 11, 30)) == 1  # across Tết


# -- classify ----------------------------------------------------------------------------------------------

DUE = vn(2025, 3, 12, 17, 0)


@pytest.mark.parametrize(("finished", "expected"), [
    (vn(2025, 3, 12, 17, 0), "on_time"),       # exactly at the due moment
    (vn(2025, 3, 12, 17, 1), "late"),          # one minute after
    (vn(2025, 3, 12, 7, 30), "on_time"),       # on the due day, in the morning
    (vn(2025, 3, 11, 23, 59), "early"),        # the evening before the due day
    (vn(2025, 3, 13, 8, 0), "late"),
    (datetime(2025, 3, 11, 17, 30, tzinfo=UTC), "on_time"),  # 00:30 on the 12th in Hà Nội, not the 11th
    (datetime(2025, 3, 11, 16, 59, tzinfo=UTC), "early"),    # 23:59 on the 11th in Hà Nội
])
def test_classify_boundaries(finished: datetime, expected: str) -> None:
    assert classify(finished, DUE) == expected


def test_classify_due_before_close() -> None:
    due = vn(2025, 3, 4, 11, 30)  # a half-day limit
    assert classify(vn(2025, 3, 4, 11, 45), due) == "late"
    assert classify(vn(2025, 3, 4, 10, 0), due) == "on_time"
    assert classify(vn(2025, 3, 3, 16, 0), due) == "early"


# -- properties --------------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31, 23, 59)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=VN_TZ))
day_counts = st.decimals(min_value=0, max_value=40, places=2)
quarter_days = st.integers(min_value=1, max_value=160).map(lambda q: Decimal(q) / 4)
days_2026 = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 3, 31))
overrides = st.dictionaries(days_2026, st.booleans(), max_size=6)
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(start=moments, days=day_counts, extra=overrides)
def test_due_is_on_a_working_day_after_the_receipt_day(start: datetime, days: Decimal,
                                                       extra: dict[date, bool]) -> None:
    cal = WorkCalendar(extra)
    due = cal.add_working_days(start, days)
    assert cal.is_working_day(due.date())
    assert due.tzinfo == VN_TZ and due.second == 0 and due.microsecond == 0
    if days > 0:
        assert due.date() > start.date()  # the day of receipt is never counted


@PROPS
@given(start=moments, a=day_counts, b=day_counts)
def test_monotonic_in_days(start: datetime, a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    assert CAL.add_working_days(start, lo) <= CAL.add_working_days(start, hi)


@PROPS
@given(a=moments, b=moments, days=day_counts)
def test_monotonic_in_start(a: datetime, b: datetime, days: Decimal) -> None:
    early, late = sorted((a, b))
    assert CAL.add_working_days(early, days) <= CAL.add_working_days(late, days)


@PROPS
@given(start=moments, days=day_counts, extra=overrides, holiday=days_2026)
def test_a_new_holiday_never_brings_the_due_date_forward(start: datetime, days: Decimal,
                                                         extra: dict[date, bool], holiday: date) -> None:
    before = WorkCalendar(extra).add_working_days(start, days)
    after = WorkCalendar({**extra, holiday: False}).add_working_days(start, days)
    assert after >= before


@PROPS
@given(start=moments, days=day_counts, extra=overrides, saturday=days_2026)
def test_a_worked_saturday_never_pushes_the_due_date_back(start: datetime, days: Decimal,
                                                          extra: dict[date, bool], saturday: date) -> None:
    saturday += timedelta(days=(5 - saturday.weekday()) % 7)
    before = WorkCalendar(extra).add_working_days(start, days)
    after = WorkCalendar({**extra, saturday: True}).add_working_days(start, days)
    assert after <= before


@PROPS
@given(start=moments, days=quarter_days)
def test_from_closing_time_the_elapsed_working_time_equals_the_limit(start: datetime, days: Decimal) -> None:
    # Received after closing (or on a day off), nothing of the receipt day is working time, so the time
    # to the due moment is exactly the limit — the two functions agree on what a working day is.
    # (Not for 0 days: a same-day limit filed on a day off ends with the next working day.)
    start = start.replace(hour=17, minute=30)
    assert CAL.working_days_between(start, CAL.add_working_days(start, days)) == days


@PROPS
@given(start=moments, days=day_counts, hh=st.integers(0, 23), mm=st.integers(0, 59))
def test_hour_of_receipt_never_matters(start: datetime, days: Decimal, hh: int, mm: int) -> None:
    assert CAL.add_working_days(start, days) == CAL.add_working_days(start.replace(hour=hh, minute=mm), days)


@PROPS
@given(a=moments, b=moments, c=moments)
def test_time_spent_adds_up_across_steps(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    total = CAL.working_days_between(a, c)
    parts = CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    assert abs(total - parts) <= Decimal("0.0001")
