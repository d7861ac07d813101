"""NĐ 63/2024's machine deadlines and the sending desk's timeline per branch: a message not synced within 10
minutes alerts the administrators once; one not acknowledged within 2 working hours becomes an incident."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import lienthong_deadlines, lienthong_outbox, partners
from engine.config import load_settings
from engine.models import Case, Event, Notification, OutboxMessage, User
from tests.conftest import at
from tests.helpers import Browser, text

DATA = {"co_quan_cong_an": "CONG-AN", "co_quan_chi_tra": "BHXH", "ho_ten_nguoi_chet": "Trần Văn Bình",
        "so_dinh_danh_nguoi_chet": "036050001111", "ngay_chet": "2026-11-28", "thu_tuc": ["khai_tu"]}


def test_late_sync_alerts_once_then_the_acknowledgement_deadline_makes_an_incident(world, api, tmp_path):
    db = world.db
    with db.transaction() as s:
        for code in ("CONG-AN", "BHXH"):
            partners.add_partner(s, code, f"Hệ thống {code}", f"http://{code.lower()}.test", "system",
                                 partners.new_secret())
    start = at("2026-12-02 08:00")  # a Wednesday morning
    code = world.receive(procedure="lien_thong_khai_tu", data=DATA, received_at=start)
    world.complete_next(code, {"so_trich_luc_khai_tu": "1/2026"}, now=start)
    ident = partners.ensure_identity(tmp_path / "a", "UBND-XA-A1")

    def police_down(url: str, text: str, headers: dict) -> int:
        if url.startswith("http://cong-an.test"):
            raise ConnectionRefusedError("police system unreachable")
        return 200

    lienthong_outbox.dispatch(db, load_settings(database_url=db.url), ident, now=start, post=police_down)
    branches = api.get(f"/api/v1/cases/{code}/lienthong", user="xa_a1_clerk").json["branches"]
    assert [(b["partner"], b["state"]) for b in branches] == [("CONG-AN", "waiting_sync"), ("BHXH", "acknowledged")]

    assert lienthong_deadlines.check(db, now=start + timedelta(minutes=9)).late == []
    late = lienthong_deadlines.check(db, now=start + timedelta(minutes=11))
    assert len(late.late) == 1 and not late.incidents
    assert lienthong_deadlines.check(db, now=start + timedelta(minutes=12)).late == []  # once
    with db.transaction() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        notes = s.scalars(select(Notification).where(Notification.user_id == admin.id,
                                                     Notification.kind == "lienthong")).all()
        assert len(notes) == 1 and "10 phút" in notes[0].message and "police system unreachable" in notes[0].message

    # 10:05 is 2 working hours and 5 minutes after 08:00: the partner never acknowledged → an incident
    report = lienthong_deadlines.check(db, now=start + timedelta(hours=2, minutes=5))
    assert len(report.incidents) == 1
    with db.transaction() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.partner_code == "CONG-AN"))
        assert row.state == "incident"
        kinds = [e.kind for e in s.scalars(select(Event).join(Case).where(Case.code == code).order_by(Event.id))]
    assert "lienthong_late" in kinds and kinds[-1] == "lienthong_incident"
    incidents = api.get("/api/v1/incidents", user="admin").json["items"]
    assert [i["kind"] for i in incidents] == ["delivery"]
    branches = api.get(f"/api/v1/cases/{code}/lienthong", user="xa_a1_clerk").json["branches"]
    assert branches[0]["state"] == "incident" and branches[0]["label"] == "Sự cố gửi"
    assert api.get(f"/api/v1/cases/{code}/lienthong", user="xa_b1_clerk").status_code == 404
    web = Browser(db, tmp_path)  # the desk sees the same on the case page
    web.login("xa_a1_clerk")
    page = text(web.get(f"/cases/{code}"))
    assert 'data-partner="CONG-AN" data-state="incident"' in page
    assert 'data-partner="BHXH" data-state="acknowledged"' in page


def test_the_acknowledgement_clock_counts_working_hours_only(world, tmp_path):
    db = world.db
    with db.transaction() as s:
        partners.add_partner(s, "CONG-AN", "Công an", "http://cong-an.test", "system", partners.new_secret())
        partners.add_partner(s, "BHXH", "BHXH", "http://bhxh.test", "system", partners.new_secret())
    friday = at("2026-12-04 16:30")
    code = world.receive(procedure="lien_thong_khai_tu", data=DATA, received_at=friday)
    world.complete_next(code, {"so_trich_luc_khai_tu": "2/2026"}, now=friday)
    # Monday 08:30: 30 minutes on Friday + 1 hour on Monday = 1.5 working hours, over a weekend
    assert lienthong_deadlines.check(db, now=at("2026-12-07 08:30")).incidents == []
    assert len(lienthong_deadlines.check(db, now=at("2026-12-07 09:05")).incidents) == 2
