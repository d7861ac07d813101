"""Every status change leaves its "status" event (the Phiếu kiểm soát and the reports read them): the online
desk's answers, the applicant's supplement, withdrawal, every step of a case — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from engine import public
from engine.models import Case, Event
from engine.status import Status, label
from tests.conftest import World, at
from tests.test_reports_figures import build_scenario

PDF = b"%PDF-1.4\n% motcua test\n"
APPLICANT = {"name": "Đỗ Thị Mai", "phone": "0905123456", "email": "mai@example.vn"}


def _status_events(world: World, code: str) -> list[Event]:
    with world.db.transaction() as s:
        case_id = s.scalar(select(Case.id).where(Case.code == code))
        rows = list(s.scalars(select(Event).where(Event.case_id == case_id, Event.kind == "status")
                              .order_by(Event.at, Event.id)))
        for e in rows:
            _ = e.actor  # loaded before the session closes
        return rows


def _chain(world: World, code: str) -> list[int]:
    return [e.data["to"] for e in _status_events(world, code)]


def _submit(world: World, tmp_path: Path) -> tuple[str, str]:
    with world.db.transaction() as s:
        case = public.submit_online(s, "ho_tro_mai_tang", "XA_A2", APPLICANT, {},
                                    [public.Upload("to_khai", "to-khai.pdf", io.BytesIO(PDF)),
                                     public.Upload("giay_chung_tu", "giay-chung-tu.pdf", io.BytesIO(PDF))],
                                    tmp_path / "docs", 1 << 20, now=at("2025-03-03 08:00"))
        return case.code, case.lookup_secret


def test_online_desk_answers_and_the_supplement_are_recorded(world: World, tmp_path: Path) -> None:
    code, secret = _submit(world, tmp_path)
    with world.db.transaction() as s:
        public.request_supplement_online(s, world.user(s, "xa_a2_clerk"), code, ["Giấy chứng tử (bản sao)"], "",
                                         now=at("2025-03-03 09:00"))
    with world.db.transaction() as s:
        public.supplement_online(s, code, secret, "Đã bổ sung",
                                 [public.Upload(None, "chung-tu.pdf", io.BytesIO(PDF))], tmp_path / "docs", 1 << 20,
                                 now=at("2025-03-04 09:00"))
    with world.db.transaction() as s:
        public.refuse_online(s, world.user(s, "xa_a2_clerk"), code, "Không thuộc đối tượng",
                             now=at("2025-03-04 10:00"))
    events = _status_events(world, code)
    assert [(e.data["from"], e.data["to"]) for e in events] == [(1, 5), (5, 1), (1, 3)]
    supplement, back, refused = events
    assert supplement.actor.username == "xa_a2_clerk" and "Giấy chứng tử" in supplement.data["reason"]
    assert back.actor is None and back.at == at("2025-03-04 09:00")  # the applicant did it, on the portal
    assert refused.data["reason"] == "Không thuộc đối tượng" and refused.at == at("2025-03-04 10:00")


def test_accepting_an_online_dossier_records_its_reception(world: World, tmp_path: Path) -> None:
    code, _secret = _submit(world, tmp_path)
    with world.db.transaction() as s:
        public.accept_online(s, world.user(s, "xa_a2_clerk"), code, now=at("2025-03-03 10:00"))
    [accepted] = _status_events(world, code)
    assert (accepted.data["from"], accepted.data["to"]) == (Status.NEW, Status.RECEIVED)
    assert accepted.actor.username == "xa_a2_clerk" and accepted.at == at("2025-03-03 10:00")


def test_withdrawal_is_one_status_event_with_who_and_why(world: World) -> None:
    code = world.receive(procedure="ho_tro_mai_tang", received_at=at("2025-03-06 09:00"), now=at("2025-03-06 09:00"))
    with world.db.transaction() as s:
        public.withdraw(s, world.user(s, "xa_a1_clerk"), code, "Công dân xin rút hồ sơ", now=at("2025-03-07 09:00"))
    [withdrawn] = _status_events(world, code)
    assert (withdrawn.data["from"], withdrawn.data["to"]) == (Status.RECEIVED, Status.WITHDRAWN)
    assert withdrawn.actor.username == "xa_a1_clerk" and withdrawn.data["reason"] == "Công dân xin rút hồ sơ"
    assert label(Status.WITHDRAWN) == "Công dân yêu cầu rút hồ sơ"


def test_every_case_status_is_the_end_of_its_event_chain(world: World, tmp_path: Path) -> None:
    """Whatever happened to a case (resolved, returned, paused, withdrawn, refused, online), replaying its
    status events from the status it was created with gives the status it has now."""
    codes = build_scenario(world, tmp_path)
    created_with = {"refused_intake": Status.NOT_RECEIVED, "submitted": Status.NEW}
    with world.db.transaction() as s:
        for name, code in codes.items():
            case = s.scalar(select(Case).where(Case.code == code))
            status = created_with.get(name, Status.RECEIVED)
            for ev in s.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "status")
                                .order_by(Event.at, Event.id)):
                assert ev.data["from"] == status, (name, ev.data)
                status = ev.data["to"]
            assert case.status_code == status, name
    assert _chain(world, codes["late"])[-2:] == [Status.RESOLVED, Status.RETURNED]
    assert _chain(world, codes["paused"]) == [Status.PROCESSING, Status.SUPPLEMENT]
