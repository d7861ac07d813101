"""Appointment dates (ngày hẹn trả kết quả) around Tết and the other holidays, as an official would write
them on the Giấy tiếp nhận hồ sơ và hẹn trả kết quả.

Every expected value was worked out by hand from the rules in docs/time-limits.md and a wall calendar —
not by running the code. Days off used (holidays 0.109, VN; Bộ luật Lao động 2019, Điều 112):
- Tết 2026 (Bính Ngọ, mùng 1 = Tue 17/02/2026): off Mon 16/02 – Fri 20/02/2026; back Mon 23/02.
- Tết 2027 (Đinh Mùi, mùng 1 = Sat 06/02/2027): off Thu 04/02 – Wed 10/02/2027; back Thu 11/02.
- 2026: Giỗ Tổ Sun 26/04 → nghỉ bù Mon 27/04; Thu 30/04, Fri 01/05 off.
  2/9: off Mon 31/08, Tue 01/09, Wed 02/09, with Sat 22/08/2026 worked in exchange (announced swap).
- 2027: Giỗ Tổ Fri 16/04; Fri 30/04; 1/5 is a Saturday → nghỉ bù Mon 03/05; 2/9: Thu 02/09, Fri 03/09.
- Announced swaps: 2024 Sat 04/05 worked for Mon 29/04 off; 2025 Sat 26/04 worked for Fri 02/05 off.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.calendar import VN_TZ, WorkCalendar


def _vn(text: str) -> datetime:
    """'dd/mm/yyyy HH:MM' as written on a receipt, in Vietnamese time."""
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=VN_TZ)


# (received at, time limit in working days, expected due as written on the receipt, why)
PACKAGE_CALENDAR = [
    # --- Tết 2026 -------------------------------------------------------------------------------------
    ("13/02/2026 10:00", 1, "23/02/2026 17:00", "last day before Tết; the whole Tết week is skipped"),
    ("13/02/2026 16:59", 1, "23/02/2026 17:00", "the hour of receipt does not matter"),
    ("12/02/2026 15:00", 3, "24/02/2026 17:00", "Fri 13/02 (1), Mon 23/02 (2), Tue 24/02 (3)"),
    ("10/02/2026 08:00", 7, "26/02/2026 17:00", "11, 12, 13/02 then 23, 24, 25, 26/02"),
    ("09/02/2026 09:00", 15, "09/03/2026 17:00", "4 days before Tết, 5 the week after, then 2/3–6/3 and 9/3"),
    ("16/02/2026 09:00", 1, "23/02/2026 17:00", "filed online on 29 Tết (a day off): Mon 23/02 is day 1"),
    ("14/02/2026 20:00", 5, "27/02/2026 17:00", "filed on Saturday before Tết: 23–27/02"),
    ("13/02/2026 10:00", "0.5", "23/02/2026 11:30", "half a day: the morning of the first day back"),
    ("12/02/2026 07:30", "2.5", "24/02/2026 11:30", "Fri 13/02, Mon 23/02, then the morning of Tue 24/02"),
    ("13/02/2026 08:00", 0, "13/02/2026 17:00", "same-day procedure on a working day"),
    ("17/02/2026 08:00", 0, "23/02/2026 17:00", "same-day procedure filed on mùng 1: the next working day"),
    # --- Tết 2027 -------------------------------------------------------------------------------------
    ("03/02/2027 16:30", 1, "11/02/2027 17:00", "last day before Tết; back on Thu 11/02"),
    ("01/02/2027 08:00", 3, "11/02/2027 17:00", "Tue 02/02 (1), Wed 03/02 (2), Thu 11/02 (3)"),
    ("02/02/2027 10:00", 5, "16/02/2027 17:00", "03/02, 11/02, 12/02, 15/02, 16/02"),
    ("05/02/2027 09:00", 2, "12/02/2027 17:00", "filed online on 29 Tết: 11/02 (1), 12/02 (2)"),
    ("29/01/2027 14:00", 10, "19/02/2027 17:00", "1, 2, 3/02 then 11, 12, 15, 16, 17, 18, 19/02"),
    ("03/02/2027 08:00", "1.5", "12/02/2027 11:30", "Thu 11/02 whole, Fri 12/02 morning"),
    ("06/02/2027 10:00", 1, "11/02/2027 17:00", "filed on mùng 1 (a Saturday)"),
    # --- Year end 2025 → 2026 --------------------------------------------------------------------------
    ("31/12/2025 15:00", 1, "02/01/2026 17:00", "Tết Dương lịch Thu 01/01/2026 is off"),
    # --- 30/4 – 1/5 -----------------------------------------------------------------------------------
    ("29/04/2026 10:00", 1, "04/05/2026 17:00", "Thu 30/04, Fri 01/05 off, then the weekend"),
    ("24/04/2026 10:00", 3, "04/05/2026 17:00", "Mon 27/04 nghỉ bù Giỗ Tổ: 28/04 (1), 29/04 (2), 04/05 (3)"),
    ("29/04/2026 10:00", "0.5", "04/05/2026 11:30", "half a day across the long weekend"),
    ("29/04/2027 09:00", 1, "04/05/2027 17:00", "Fri 30/04 off, 1/5 on Saturday → nghỉ bù Mon 03/05"),
    ("15/04/2027 09:00", 1, "19/04/2027 17:00", "Giỗ Tổ Hùng Vương Fri 16/04/2027"),
    ("29/04/2025 10:00", 1, "05/05/2025 17:00", "2025: 30/04, 01/05 and the swapped Fri 02/05 are off"),
    # --- 2/9 ------------------------------------------------------------------------------------------
    ("21/08/2026 09:00", 1, "22/08/2026 17:00", "Sat 22/08/2026 is worked (swap for Mon 31/08)"),
    ("28/08/2026 09:00", 1, "03/09/2026 17:00", "31/08, 01/09, 02/09 off"),
    ("27/08/2026 09:00", 3, "04/09/2026 17:00", "28/08 (1), 03/09 (2), 04/09 (3)"),
    ("01/09/2027 09:00", 1, "06/09/2027 17:00", "2027: Thu 02/09 and Fri 03/09 off"),
    # --- Announced swaps the package knows --------------------------------------------------------------
    ("25/04/2025 10:00", 1, "26/04/2025 17:00", "Sat 26/04/2025 was a working day (swap for Fri 02/05)"),
    ("25/04/2025 10:00", 2, "28/04/2025 17:00", "Sat 26/04 (1), Mon 28/04 (2)"),
    ("26/04/2024 10:00", 1, "02/05/2024 17:00", "2024: 29/04 (swapped), 30/04, 01/05 off"),
    ("26/04/2024 10:00", 3, "04/05/2024 17:00", "02/05 (1), 03/05 (2), Sat 04/05 worked (3)"),
]


@pytest.mark.parametrize(("received", "days", "expected", "why"), PACKAGE_CALENDAR)
def test_appointment_with_package_calendar(received: str, days: object, expected: str, why: str) -> None:
    due = WorkCalendar().add_working_days(_vn(received), days)  # type: ignore[arg-type]
    assert due.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") == expected, why


# Swaps an admin enters as overrides (a province's own decision, or a plan announced after the package).
OVERRIDDEN = [
    # A Saturday made a working day before Tết 2027, and Thu 11/02/2027 made a day off in exchange.
    ({date(2027, 1, 30): True, date(2027, 2, 11): False},
     "29/01/2027 10:00", 1, "30/01/2027 17:00", "the swapped Saturday counts as day 1"),
    ({date(2027, 1, 30): True, date(2027, 2, 11): False},
     "03/02/2027 10:00", 1, "12/02/2027 17:00", "Thu 11/02 is now off too"),
    ({date(2027, 1, 30): True, date(2027, 2, 11): False},
     "28/01/2027 10:00", 3, "01/02/2027 17:00", "Fri 29/01 (1), Sat 30/01 (2), Mon 01/02 (3)"),
    # A Saturday made a working day before Tết 2026, Mon 23/02/2026 given off in exchange.
    ({date(2026, 2, 7): True, date(2026, 2, 23): False},
     "06/02/2026 10:00", 1, "07/02/2026 17:00", "Sat 07/02/2026 worked"),
    ({date(2026, 2, 7): True, date(2026, 2, 23): False},
     "13/02/2026 10:00", 1, "24/02/2026 17:00", "Tết runs to Mon 23/02 inclusive"),
    ({date(2026, 2, 7): True, date(2026, 2, 23): False},
     "07/02/2026 08:00", 0, "07/02/2026 17:00", "same-day procedure on the worked Saturday"),
    # 29 Tết 2027 kept as a working day by the province (override True on a package holiday).
    ({date(2027, 2, 4): True},
     "03/02/2027 10:00", 1, "04/02/2027 17:00", "the admin's word wins over the package"),
    # The package's 2026 swap cancelled locally: Sat 22/08 not worked, Mon 31/08 worked.
    ({date(2026, 8, 22): False, date(2026, 8, 31): True},
     "21/08/2026 09:00", 1, "24/08/2026 17:00", "no Saturday work: Mon 24/08"),
    ({date(2026, 8, 22): False, date(2026, 8, 31): True},
     "28/08/2026 09:00", 1, "31/08/2026 17:00", "Mon 31/08 worked"),
]


@pytest.mark.parametrize(("overrides", "received", "days", "expected", "why"), OVERRIDDEN)
def test_appointment_with_overrides(overrides: dict[date, bool], received: str, days: object, expected: str,
                                    why: str) -> None:
    due = WorkCalendar(overrides).add_working_days(_vn(received), days)  # type: ignore[arg-type]
    assert due.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") == expected, why
