"""Notifications go out by e-mail when SMTP is configured — checked against a real SMTP server (aiosmtpd)
on a local port: staff get reminders/overdue/escalation mail, the applicant gets the apology."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import apology, notifications, scheduler
from engine.config import load_settings
from engine.deploy import deploy
from engine.models import Case, Notification
from tests.conftest import World, at

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _settings(world: World, tmp_path: Path, port: int) -> object:
    return load_settings(database_url=world.db.url, instance_path=tmp_path / "instance", smtp_host="127.0.0.1",
                         smtp_port=port, mail_from="motcua@xa-anphu.gov.vn")


def _case(world: World) -> str:
    with world.db.transaction() as s:
        deploy(s, TWO_LANES, "two_lanes.bpmn", forms={}, procedure_code="two_lanes")
    return world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"),
                         applicant={"name": "Lê Văn Cường", "email": "cuong@example.vn"})


def test_overdue_and_escalation_mail_once(world: World, tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    code = _case(world)
    settings = _settings(world, tmp_path, port)
    scheduler.sweep(world.db, at("2026-03-10 17:30"), settings)
    scheduler.deliver_outbox(world.db, settings)
    new_work, to_specialist = inbox.to("xa_a1_specialist@demo.motcua.local")  # the step announced, then overdue
    assert code in new_work["Subject"] and "Có việc mới" in new_work["Subject"]
    [to_head] = inbox.to("xa_a1_head@demo.motcua.local")
    assert code in to_specialist["Subject"] and "quá hạn" in to_specialist["Subject"].lower()
    assert to_specialist["From"] == "motcua@xa-anphu.gov.vn"
    assert "bước «Xã xem xét» đã quá hạn xử lý (hạn 17:00 10/03/2026)" in to_specialist.get_content()
    assert "đôn đốc" in to_head.get_content()
    with world.db.transaction() as s:
        assert all(n.emailed_at is not None for n in s.scalars(select(Notification)))
    scheduler.sweep(world.db, at("2026-03-10 17:30"), settings)
    scheduler.sweep(world.db, at("2026-03-11 09:00"), settings)
    scheduler.deliver_outbox(world.db, settings)
    assert len(inbox.messages) == 3


def test_the_applicant_is_mailed_the_apology(world: World, tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    code = _case(world)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        apology.issue_apology(s, world.user(s, "xa_a1_specialist"), case, "Chờ xác minh của huyện",
                              at("2026-03-18 17:00"), at("2026-03-13 09:00"))
        ids = list(s.scalars(select(Notification.id).where(Notification.kind == "apology")))
    assert notifications.deliver(world.db, _settings(world, tmp_path, port), ids) == []
    [mail] = inbox.to("cuong@example.vn")
    assert code in mail["Subject"] and "xin lỗi" in mail["Subject"].lower()
    body = mail.get_content()
    assert "Lê Văn Cường" in body and "17:00 18/03/2026" in body and "Chờ xác minh của huyện" in body
