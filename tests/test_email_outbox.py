"""E-mail is an outbox in the database: a mail that could not go out (SMTP down) waits with its attempts and
last error, survives a restart of motcua, and is sent exactly once when the server is back — by whichever
process runs the outbox job — checked against a real SMTP server (aiosmtpd) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import notifications, org, scheduler
from engine.config import load_settings
from engine.db import Database
from engine.deploy import deploy
from engine.models import Notification, utcnow
from tests.conftest import World, at
from tests.helpers import all_succeeded, at_once
from tests.test_notifications_email import Inbox, _free_port
from web import create_app

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()
APPLICANT = "cuong@example.vn"


def _settings(url: str, tmp_path: Path, port: int) -> object:
    return load_settings(database_url=url, instance_path=tmp_path / "instance", smtp_host="127.0.0.1",
                         smtp_port=port, mail_from="motcua@xa-anphu.gov.vn")


def _case(world: World) -> str:
    with world.db.transaction() as s:
        deploy(s, TWO_LANES, "two_lanes.bpmn", forms={}, procedure_code="two_lanes")
    return world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"), applicant={"name": "Lê Văn Cường", "email": APPLICANT})


def _apologise_through_the_api(url: str, settings: object, code: str) -> None:
    database = Database(url)
    app = create_app(settings, database=database)  # type: ignore[arg-type]
    with database.transaction() as s:
        token = org.issue_token(s, org.user_by_username(s, "xa_a1_specialist"))
    resp = app.test_client().post(f"/api/v1/cases/{code}/apology", headers={"Authorization": f"Bearer {token}"},
                                  json={"reason": "Chờ xác minh của huyện", "new_due_at": "2026-03-18T17:00:00"})
    assert resp.status_code == 201, resp.get_json()
    database.dispose()


def test_smtp_down_restart_smtp_up_every_mail_arrives_once(world: World, tmp_path: Path) -> None:
    port = _free_port()  # the mail server's address; nobody listens there yet
    settings = _settings(world.db.url, tmp_path, port)
    code = _case(world)

    # First run of motcua: the new step announced (mail to the specialist), then overdue (mail to the specialist
    # and the head) and an apology (to the applicant).
    first = Database(world.db.url)
    scheduler.sweep(first, at("2026-03-10 17:30"), settings)
    _apologise_through_the_api(world.db.url, settings, code)  # tries to mail at once: SMTP is down
    t0 = utcnow()
    assert scheduler.deliver_outbox(first, settings, t0).sent == []
    with first.transaction() as s:
        waiting = list(s.scalars(select(Notification).where(Notification.emailed_at.is_(None),
                                                            Notification.next_attempt_at.is_not(None))))
        assert len(waiting) == 4
        assert all(n.attempts == 1 and "Connection" in (n.last_error or "") for n in waiting)
    first.dispose()  # motcua stops: nothing of it is left in this process but the database

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        second = Database(world.db.url)  # motcua starts again, new objects
        create_app(settings, database=second)  # type: ignore[arg-type]
        assert scheduler.deliver_outbox(second, settings, t0 + timedelta(seconds=30)).sent == []  # backing off
        assert len(scheduler.deliver_outbox(second, settings, t0 + timedelta(minutes=2)).sent) == 4
        for later in (3, 60, 600):
            scheduler.deliver_outbox(second, settings, t0 + timedelta(minutes=later))
        scheduler.sweep(second, at("2026-03-10 17:40"), settings)  # nothing new is due
        scheduler.deliver_outbox(second, settings, t0 + timedelta(hours=12))
    finally:
        smtp.stop()
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        [APPLICANT, "xa_a1_head@demo.motcua.local", "xa_a1_specialist@demo.motcua.local",
         "xa_a1_specialist@demo.motcua.local"])
    [apology] = inbox.to(APPLICANT)
    assert code in apology["Subject"] and "Chờ xác minh của huyện" in apology.get_content()
    with second.transaction() as s:
        rows = list(s.scalars(select(Notification)))
        assert all(n.sent_at is not None and n.last_error is None and n.next_attempt_at is None for n in rows)
    second.dispose()


def test_the_apology_api_mails_the_applicant_at_once(world: World, tmp_path: Path) -> None:
    port = _free_port()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        _apologise_through_the_api(world.db.url, _settings(world.db.url, tmp_path, port), _case(world))
    finally:
        smtp.stop()
    [mail] = inbox.to(APPLICANT)
    assert "17:00 18/03/2026" in mail.get_content()


def test_two_senders_at_once_mail_each_notice_once(world: World, tmp_path: Path) -> None:
    """Fail-over: the old and the new scheduler (or a page and the job) run the outbox at the same moment."""
    now = utcnow()
    with world.db.transaction() as s:
        notifications.add_many(s, [{"email": f"nguoi{i}@example.vn", "kind": "apology", "message": f"Thư {i}",
                                    "created_at": now} for i in range(40)])
    port = _free_port()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = _settings(world.db.url, tmp_path, port)
    senders = [Database(world.db.url) for _ in range(2)]
    try:
        all_succeeded(at_once(*(lambda d=d: scheduler.deliver_outbox(d, settings, now) for d in senders)))
    finally:
        smtp.stop()
        for d in senders:
            d.dispose()
    addresses = [m["To"] for m in inbox.messages]
    assert len(addresses) == 40 and len(set(addresses)) == 40


def test_retries_back_off_then_stop_with_the_last_error(world: World, tmp_path: Path) -> None:
    now = utcnow()
    with world.db.transaction() as s:
        [nid] = notifications.add_many(s, [{"email": "a@example.vn", "kind": "apology", "message": "x",
                                             "created_at": now}])
    down = _settings(world.db.url, tmp_path, _free_port())
    waits = []
    for _ in range(notifications.MAX_ATTEMPTS):
        report = notifications.send_outbox(world.db, down, now)
        assert report.sent == [] and (report.failed or report.gave_up) == [nid]
        with world.db.transaction() as s:
            row = s.get(Notification, nid)
            if row.next_attempt_at is None:
                break
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == notifications.MAX_RETRY
    with world.db.transaction() as s:
        row = s.get(Notification, nid)
        assert row.attempts == notifications.MAX_ATTEMPTS and row.next_attempt_at is None and row.last_error
        assert notifications.outbox_backlog(s) == 0
