"""Case codes are `<agency>-YYMMDD-XXXX`: a sequence per receiving agency per day, unique even when
clerks receive at the same moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import cases
from tests.conftest import World, at
from tests.helpers import all_succeeded, at_once


def test_sequence_per_agency_per_day(world: World) -> None:
    day = at("2026-03-02 09:00")
    a1 = [world.receive("xa_a1_clerk", received_at=day, now=day + timedelta(hours=1)) for _ in range(2)]
    a2 = world.receive("xa_a2_clerk", received_at=day, now=day + timedelta(hours=1))
    next_day = world.receive("xa_a1_clerk", received_at=day + timedelta(days=1), now=day + timedelta(days=1, hours=1))
    assert a1 == ["000.31.31.H99-260302-0001", "000.31.31.H99-260302-0002"]
    assert a2 == "000.32.31.H99-260302-0001"
    assert next_day == "000.31.31.H99-260303-0001"


def test_concurrent_receptions_get_distinct_codes(world: World) -> None:
    def clerk() -> list[str]:
        return [world.receive("xa_b1_clerk") for _ in range(4)]

    codes = [c for batch in all_succeeded(at_once(*[clerk] * 4)) for c in batch]
    assert len(codes) == 16 and len(set(codes)) == 16
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
    assert numbers == list(range(1, 17))


def test_paper_dossier_is_timed_from_its_receipt(world: World) -> None:
    received = at("2026-03-02 10:00")  # a Monday
    code = world.receive("xa_a1_clerk", received_at=received, now=at("2026-03-04 08:00"))
    with world.db.transaction() as s:
        case = cases.get_case(s, world.user(s, "xa_a1_clerk"), code)
        assert case.received_at == received
        first = cases.open_items(s, case)[0]
        assert first.created_at == received
        # The step's due date counts from the receipt, not from the day it was typed in.
        assert first.due_at < datetime.fromisoformat("2026-03-20T00:00:00+07:00")
        assert case.due_at > first.due_at
