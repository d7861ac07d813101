"""Case codes follow the deployment's template (TT 01/2018 by default; TT 04/2025 allows a daily sequence of
more than four digits), stay unique under concurrent receptions, and use the agency code valid on the day
of receipt while old agency codes keep resolving."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import cases
from engine.case_code_template import (
    DIGITS_ENV,
    TEMPLATE_ENV,
    code_format,
    reissue_agency_code,
    unit_for_agency_code,
)
from engine.errors import Conflict, Invalid
from engine.models import CaseSequence, Unit
from tests.conftest import World, at
from tests.helpers import all_succeeded, at_once

DAY = at("2026-03-02 09:00")


def receive_on(world: World, username: str, when=DAY) -> str:  # noqa: ANN001
    return world.receive(username, received_at=when, now=when + timedelta(hours=1))


def busy_day(world: World, agency: str, last: int) -> None:
    """The agency has already given `last` numbers today (receiving 9,999 dossiers one by one takes minutes)."""
    with world.db.transaction() as s:
        s.add(CaseSequence(agency_code=agency, day=DAY.date(), last=last))


def test_default_is_tt01_2018_four_digits_and_refuses_the_10000th(world: World) -> None:
    assert receive_on(world, "xa_a1_clerk") == "000.31.31.H99-260302-0001"
    busy_day(world, "000.32.31.H99", 9999)
    with pytest.raises(Conflict) as e:
        receive_on(world, "xa_a2_clerk")
    assert DIGITS_ENV in e.value.message


def test_six_digit_sequence_goes_past_9999_a_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIGITS_ENV, "6")
    busy_day(world, "000.32.31.H99", 9999)
    assert receive_on(world, "xa_a2_clerk") == "000.32.31.H99-260302-010000"
    assert receive_on(world, "xa_a2_clerk") == "000.32.31.H99-260302-010001"
    assert receive_on(world, "xa_a1_clerk") == "000.31.31.H99-260302-000001"


def test_template_of_tt04_2025(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX: the AA of the centralised system is written into the template.
    monkeypatch.setenv(TEMPLATE_ENV, "{agency}-{yymmdd}-12{seq}")
    monkeypatch.setenv(DIGITS_ENV, "5")
    assert receive_on(world, "xa_a1_clerk") == "000.31.31.H99-260302-1200001"


@pytest.mark.parametrize("template",
                         ["{agency}-{seq}", "{yymmdd}-{seq}", "{agency}-{yymmdd}", "{agency}{x}{yymmdd}{seq}"])
def test_a_template_that_cannot_be_unique_is_refused(template: str) -> None:
    with pytest.raises(Invalid) as e:
        code_format(template, 4)
    assert TEMPLATE_ENV in e.value.details
    with pytest.raises(Invalid):
        code_format(None, 3)


def test_concurrent_receptions_with_six_digits_get_distinct_codes(world: World,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIGITS_ENV, "6")
    def clerk() -> list[str]:
        return [world.receive("xa_b2_clerk") for _ in range(3)]

    codes = [c for batch in all_succeeded(at_once(*[clerk] * 4)) for c in batch]
    assert len(set(codes)) == 12
    assert sorted(int(c.rsplit("-", 1)[1]) for c in codes) == list(range(1, 13))
    assert all(len(c.rsplit("-", 1)[1]) == 6 for c in codes)


def test_reissued_agency_code_applies_from_its_date_and_old_codes_keep_resolving(world: World) -> None:
    with world.db.transaction() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "XA_A1"))
        reissue_agency_code(s, unit, "H99.01.31", date(2026, 3, 3))
        with pytest.raises(Conflict):
            reissue_agency_code(s, unit, "H99.01.32", date(2026, 3, 3))
        with pytest.raises(Invalid):
            reissue_agency_code(s, unit, "bad code!", date(2026, 4, 1))
    before = receive_on(world, "xa_a1_clerk")
    after = receive_on(world, "xa_a1_clerk", DAY + timedelta(days=1))
    assert before == "000.31.31.H99-260302-0001"
    assert after == "H99.01.31-260303-0001"
    with world.db.transaction() as s:
        assert unit_for_agency_code(s, "000.31.31.H99").code == "XA_A1"
        assert unit_for_agency_code(s, "H99.01.31").code == "XA_A1"
        # Cases under the old code are still found by their code.
        assert cases.get_case(s, world.user(s, "xa_a1_clerk"), before).code == before


def test_cli_reissues_an_agency_code(tmp_path) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from web.cli import main

    env = {"MOTCUA_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "MOTCUA_INSTANCE_PATH": str(tmp_path)}
    assert CliRunner().invoke(main, ["init", "--demo", "--levels", "2"], env=env).exit_code == 0
    ok = CliRunner().invoke(main, ["org", "agency-code", "XA_HOA_AN", "H99.01", "--from", "2026-01-25"], env=env)
    assert ok.exit_code == 0 and "H99.01 from 25/01/2026" in ok.output
    again = CliRunner().invoke(main, ["org", "agency-code", "XA_HOA_AN", "H99.02", "--from", "2026-01-25"], env=env)
    assert again.exit_code != 0 and "đã có mã cơ quan" in again.output
