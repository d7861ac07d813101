"""Work announces itself: when a step lands at a unit and role, every official who may do it — each holder of
the role at that unit and whoever stands in for one of them — finds it in the bell (and by e-mail when SMTP is
configured); nobody else does. That holds after reception, after each completion, when the result comes back
down from the province or back from another system, and when a citizen submits a dossier online."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import delegation, notifications, org, public
from engine.calendar import VN_TZ
from engine.config import load_settings
from engine.models import Case, Notification, User, utcnow
from tests.conftest import World
from tests.test_notifications_email import smtp  # noqa: F401 — the real SMTP server fixture

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
APPLICANT = {"name": "Lê Thị Hồng", "id_number": "036190004321", "address": "Thôn 2, xã An Phú",
             "phone": "0912000111", "email": "hong@example.vn"}


def told(world: World, username: str, kind: str = "new_work") -> list[str]:
    """The messages of `kind` in this user's bell, oldest first."""
    with world.db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return list(s.scalars(select(Notification.message).where(Notification.user_id == uid, Notification.kind == kind)
                              .order_by(Notification.id)))


def _today(days: int = 0) -> str:
    return (utcnow().astimezone(VN_TZ) + timedelta(days=days)).date().isoformat()


def _login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": username, "password": "motcua2026",
                                       "csrf_token": token}).status_code == 302


def test_every_holder_of_the_role_and_their_deputy_are_told_and_nobody_else(world: World) -> None:
    with world.db.transaction() as s:
        org.add_user(s, "xa_a1_specialist2", "XA_A1", ["specialist"], password="motcua2026", full_name="Phạm Văn Hải")
        org.add_user(s, "xa_a1_away", "XA_A1", ["specialist"], password="motcua2026", full_name="Vũ Thị Lan")
        # The specialist on leave names the head of division as deputy; an ended delegation tells nobody.
        delegation.create(s, world.user(s, "xa_a1_away"), "xa_a1_head", _today(), _today(3))
        old = delegation.create(s, world.user(s, "xa_a1_specialist2"), "xa_a1_leader", _today(), _today(1))
        delegation.revoke(s, world.user(s, "xa_a1_specialist2"), old.id)
        quitter, _pw = org.add_user(s, "xa_a1_quit", "XA_A1", ["specialist"], password="motcua2026")
        quitter.active = False
    code = world.receive(applicant=APPLICANT)
    item_id, unit, role = world.open_item(code)
    assert (unit, role) == ("XA_A1", "specialist")

    for who in ("xa_a1_specialist", "xa_a1_specialist2", "xa_a1_away", "xa_a1_head"):
        [message] = told(world, who)
        assert code in message, who
    assert "thay Vũ Thị Lan" in told(world, "xa_a1_head")[0]  # the deputy knows for whom
    for who in ("xa_a1_clerk", "xa_a1_leader", "xa_a2_specialist", "huyen_a_specialist", "xa_a1_quit"):
        assert told(world, who) == [], who

    # The next step lands at the leader's desk: the leader is told, the specialists hear nothing more.
    world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    _next_id, unit, role = world.open_item(code)
    [message] = told(world, f"{unit.lower()}_{role}")
    assert code in message
    assert len(told(world, "xa_a1_specialist")) == 1


def test_the_result_back_from_the_province_is_announced_at_the_commune_desk(world: World, api: Any) -> None:
    code = world.receive(applicant=APPLICANT)
    done = []
    while True:
        _item, unit, role = world.open_item(code)
        if (unit, role) == ("XA_A1", "clerk"):
            break
        done.append(world.complete_next(code))
    assert ("TINH", "leader") in done  # it went up to the province and came back down
    [message] = told(world, "xa_a1_clerk")
    assert code in message and "Trả kết quả" in message

    _login(api.client, "xa_a1_clerk")  # the bell in the header says so
    html = api.client.get("/inbox").get_data(as_text=True)
    bell = html[html.index('id="bell"'):html.index("</details>", html.index('id="bell"'))]
    assert re.search(r'id="bell-count">\s*1\s*<', bell) and code in bell and "Việc mới" in bell


def test_a_result_from_another_system_is_announced(db: Any, tmp_path: Path, sqlite_template: Path) -> None:
    from tests.lienthong.test_khai_tu_orchestration import DECEASED, Network, _receive

    net = Network(tmp_path, db, sqlite_template)
    try:
        world = World(db)
        code = _receive(net, {**DECEASED, "co_quan_chi_tra": "", "thu_tuc": ["khai_tu", "xoa_thuong_tru"]})
        net.complete("A", code, "xa_a1_specialist", {"so_trich_luc_khai_tu": "16/2026/TLKT"})
        assert net.dispatch("A").delivered
        before = told(world, "xa_a1_clerk")
        net.complete("B", net.linked_case("B"), "xa_a1_specialist", {"ket_qua": "Đã xóa"})
        assert net.dispatch("B").delivered  # the police's answer reaches the commune's system
        new = told(world, "xa_a1_clerk")[len(before):]
        assert len(new) == 1 and code in new[0] and "Trả" in new[0]
    finally:
        net.dispose()


def test_an_online_submission_tells_the_desk_that_will_accept_it(world: World, tmp_path: Path) -> None:
    with world.db.transaction() as s:
        org.add_user(s, "xa_a2_clerk2", "XA_A2", ["clerk"], password="motcua2026")
        case = public.submit_online(s, "ho_tro_mai_tang", "XA_A2", APPLICANT, {"request": "Mai táng phí"},
                                    [public.Upload("to_khai", "to-khai.pdf", io.BytesIO(PDF)),
                                     public.Upload("giay_chung_tu", "chung-tu.pdf", io.BytesIO(PDF))],
                                    tmp_path / "docs", 10_000_000)
        code = case.code
    for who in ("xa_a2_clerk", "xa_a2_clerk2"):
        [message] = told(world, who, "online_waiting")
        assert code in message and "trực tuyến" in message
    for who in ("xa_a1_clerk", "xa_a2_specialist", "xa_a2_leader"):
        assert told(world, who, "online_waiting") == [] and told(world, who) == []
    # Once accepted, the dossier's first step is announced like any other.
    with world.db.transaction() as s:
        public.accept_online(s, world.user(s, "xa_a2_clerk"), code)
    _item, unit, role = world.open_item(code)
    assert code in told(world, f"{unit.lower()}_{role}")[0]


def test_a_supplement_sent_online_tells_the_desk_again(world: World, tmp_path: Path) -> None:
    with world.db.transaction() as s:
        case = public.submit_online(s, "ho_tro_mai_tang", "XA_A2", APPLICANT, {},
                                    [public.Upload("to_khai", "to-khai.pdf", io.BytesIO(PDF)),
                                     public.Upload("giay_chung_tu", "chung-tu.pdf", io.BytesIO(PDF))],
                                    tmp_path / "docs", 10_000_000)
        code, secret = case.code, case.lookup_secret
    with world.db.transaction() as s:
        public.request_supplement_online(s, world.user(s, "xa_a2_clerk"), code, ["Giấy chứng tử"], "")
    with world.db.transaction() as s:
        public.supplement_online(s, code, secret, "Bổ sung giấy chứng tử",
                                 [public.Upload(None, "chung-tu.pdf", io.BytesIO(PDF))], tmp_path / "docs", 10_000_000)
    first, again = told(world, "xa_a2_clerk", "online_waiting")
    assert code in first and code in again and "bổ sung" in again


def test_the_new_work_is_mailed_when_smtp_is_configured(world: World, tmp_path: Path, smtp: Any) -> None:  # noqa: F811
    inbox, port = smtp
    code = world.receive(applicant=APPLICANT)
    settings = load_settings(database_url=world.db.url, instance_path=tmp_path / "instance",
                             smtp_host="127.0.0.1", smtp_port=port, mail_from="motcua@xa-anphu.gov.vn")
    with world.db.transaction() as s:
        case_id = s.scalar(select(Case.id).where(Case.code == code))
    notifications.deliver_for_cases(world.db, settings, [case_id])
    [mail] = inbox.to("xa_a1_specialist@demo.motcua.local")
    assert code in mail["Subject"] and "Có việc mới" in mail["Subject"] and code in mail.get_content()
    assert inbox.to("xa_a1_leader@demo.motcua.local") == []
