"""The national portal hears every status of every case: desk receptions (born status 2), refusals at the
desk (born 3), and every change after, through set_status — queued in the same transaction, in order."""

from __future__ import annotations

from sqlalchemy import select

from engine import cases, partners
from engine.models import Case, Event, OutboxMessage


def _feed(db, code: str) -> list[tuple]:
    with db.transaction() as s:
        rows = s.scalars(select(OutboxMessage).join(Case)
                         .where(Case.code == code, OutboxMessage.partner_code == "DVCQG").order_by(OutboxMessage.id))
        return [(m.body["status"]["from"], m.body["status"]["to"]) for m in rows]


def test_every_status_change_is_queued_for_the_portal_in_order(world):
    db = world.db
    with db.transaction() as s:
        partners.add_partner(s, "DVCQG", "Cổng DVC quốc gia", "https://dvcqg.example.vn", "portal",
                             partners.new_secret())
    code = world.receive()  # ncc_mai_tang: commune → district → province
    for _ in range(2):
        world.complete_next(code)
    assert _feed(db, code)[:2] == [(None, 2), (2, 4)]
    with db.transaction() as s:
        refused = cases.record_intake_outcome(s, world.user(s, "xa_a1_clerk"), "ncc_mai_tang",
                                              {"name": "Lê Văn C"}, "refused", "Không thuộc thẩm quyền")
        refused_code = refused.code
    assert _feed(db, refused_code) == [(None, 3)]
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        msg = s.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id))
        assert msg.body["dvcqg"]["DongBoHoSoMC"]["MaHoSo"] == code
        assert msg.body["dvcqg"]["DongBoHoSoMC"]["HinhThuc"] == "0"
        assert msg.body["case"]["agency_code"] == "000.31.31.H99"
        # the portal's copies are not handovers: the Phiếu kiểm soát does not list them
        assert not s.scalars(select(Event).where(Event.case_id == case.id, Event.kind.like("lienthong_%"))).all()


def test_without_a_portal_nothing_is_queued(world):
    code = world.receive()
    world.complete_next(code)
    with world.db.transaction() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
