"""Tiếp nhận bổ sung: a dossier found incomplete at the desk (Mẫu 02) reads "Chờ bổ sung" in the case list, not
a refusal; when the applicant comes back the reception form opens filled in as the desk left it (applicant,
documents ticked, scans), the clerk ticks what was missing and receives it as a new case linked to the first
attempt, which then reads "Đã tiếp nhận bổ sung". Only one reception of the same supplement wins. The report
counts the Mẫu 02 issued at intake without touching its other figures."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import reports, supplements
from engine.db import Database
from engine.errors import Conflict, NotFound
from engine.models import Case, Document, Event
from engine.report_scope import filters_for
from tests.conftest import World, at
from tests.test_pages_officials import PDF, Browser, text

APPLICANT = {"name": "Lương Thị Hằng", "id_number": "036190004321", "address": "Thôn Đông, xã An Phú",
             "phone": "0987001122", "email": "hang@example.vn"}


@pytest.fixture
def web(db: Database, tmp_path: Path) -> Browser:
    return Browser(db, tmp_path)


def _incomplete_at_the_desk(web: Browser) -> str:
    """The clerk ticks the declaration, scans it, and asks for the death certificate (Mẫu 02)."""
    web.login("xa_a1_clerk")
    web.get("/reception?procedure=ho_tro_mai_tang")
    r = web.post("/reception", {"procedure": "ho_tro_mai_tang", **APPLICANT, "docs": ["to_khai"],
                                "file_to_khai": (io.BytesIO(PDF), "to-khai.pdf"), "channel": "desk",
                                "note": "Mang bản sao giấy chứng tử khi quay lại", "action": "incomplete"},
                 content_type="multipart/form-data")
    assert r.status_code == 302 and "slip=02" in r.headers["Location"], text(r)[:1500]
    return re.search(r"/cases/([^?]+)\?", r.headers["Location"]).group(1)


def _status_cell(html: str, code: str) -> str:
    row = next(r for r in html.split("<tr>") if f"<code>{code}</code>" in r)
    return re.search(r'<span class="status [^"]*">([^<]*)</span>', row).group(1)


def test_the_applicant_comes_back_and_only_adds_what_was_missing(web: Browser, db: Database) -> None:
    first = _incomplete_at_the_desk(web)
    # In the case list it waits for the applicant; it was not refused.
    assert _status_cell(text(web.get("/cases")), first) == "Chờ bổ sung"
    page = text(web.get(f"/cases/{first}"))
    assert 'class="status-big status-5" id="case-status">Chờ bổ sung<' in page
    assert f'href="/reception?supplement_of={first}"' in page

    # Reopened: everything as the desk left it, with what was missing listed.
    form = text(web.get(f"/reception?supplement_of={first}"))
    for value in APPLICANT.values():
        assert f'value="{value}"' in form, value
    assert re.search(r'value="to_khai" id="doc-to_khai" checked', form)
    assert not re.search(r'value="giay_chung_tu" id="doc-giay_chung_tu" checked', form)
    assert "Giấy chứng tử của đối tượng" in re.search(r'id="supplement-missing">(.*?)</ul>', form, re.S).group(1)
    assert "to-khai.pdf" in form and f'name="supplement_of" value="{first}"' in form

    # The clerk ticks the certificate and receives: a new case with its own code and appointment.
    r = web.post("/reception", {"procedure": "ho_tro_mai_tang", **APPLICANT, "supplement_of": first,
                                "docs": ["to_khai", "giay_chung_tu"], "channel": "desk", "action": "accept"})
    assert r.status_code == 302 and "slip=01" in r.headers["Location"], text(r)[:1500]
    second = re.search(r"/cases/([^?]+)\?", r.headers["Location"]).group(1)
    assert second != first
    with db.transaction() as s:
        old = s.scalar(select(Case).where(Case.code == first))
        new = s.scalar(select(Case).where(Case.code == second))
        assert old.supplemented_by_id == new.id and old.status_code == 3
        assert new.status_code == 2 and new.due_at is not None and new.state is not None
        assert (new.applicant_name, new.applicant_email) == (APPLICANT["name"], APPLICANT["email"])
        assert new.data["documents_received"] == ["to_khai", "giay_chung_tu"]
        # The scan handed in the first time is in the new dossier (the same stored file).
        kept = s.scalars(select(Document).where(Document.case_id == new.id)).all()
        assert [(d.filename, d.doc_code) for d in kept] == [("to-khai.pdf", "to_khai")]
        assert s.scalar(select(Event.data).where(Event.case_id == new.id, Event.kind == "supplement_of")) == {
            "case": first, "missing": ["Giấy chứng tử của đối tượng"]}
    listing = text(web.get("/cases"))
    assert _status_cell(listing, first) == "Đã tiếp nhận bổ sung" and _status_cell(listing, second) == "Được tiếp nhận"
    assert f"/cases/{first}" in text(web.get(f"/cases/{second}"))  # linked both ways
    assert f"/cases/{second}" in text(web.get(f"/cases/{first}"))
    # The same supplement cannot be received twice.
    again = web.post("/reception", {"procedure": "ho_tro_mai_tang", **APPLICANT, "supplement_of": first,
                                    "docs": ["to_khai", "giay_chung_tu"], "action": "accept"})
    assert again.status_code == 409 and second in text(again)


def test_two_clerks_receiving_the_same_supplement_at_once_one_wins(world: World) -> None:
    with world.db.transaction() as s:
        first = supplements.reception.record_intake_outcome(
            s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang", APPLICANT, "incomplete", "",
            missing=["Giấy chứng tử của đối tượng"], kept={"documents_received": ["to_khai"]}).code
    barrier, outcomes = threading.Barrier(2), []

    def receive() -> None:
        try:
            with world.db.transaction() as s:
                barrier.wait(5)
                case = supplements.receive_at_desk(s, world.user(s, "xa_a1_clerk"), first, APPLICANT,
                                                   {"documents_received": ["to_khai", "giay_chung_tu"]})
                outcomes.append(case.code)
        except Conflict as e:
            outcomes.append(e)

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    won = [o for o in outcomes if isinstance(o, str)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert won[0] in lost[0].message
    with world.db.transaction() as s:
        assert s.scalar(select(Case.supplemented_by_id).where(Case.code == first)) is not None
        assert len(s.scalars(select(Case).where(Case.applicant_name == APPLICANT["name"])).all()) == 2


def test_only_an_incomplete_dossier_of_ones_own_desk_can_be_received_as_supplement(world: World) -> None:
    refused_code = None
    with world.db.transaction() as s:
        refused_code = supplements.reception.record_intake_outcome(
            s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang", APPLICANT, "refused", "Không thuộc thẩm quyền").code
        incomplete = supplements.reception.record_intake_outcome(
            s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang", APPLICANT, "incomplete", "",
            missing=["Giấy chứng tử của đối tượng"]).code
    with world.db.transaction() as s:
        try:
            supplements.prefill(s, world.user(s, "xa_a1_clerk"), refused_code)
            raise AssertionError("a refusal is not waiting for a supplement")
        except Conflict:
            pass
        try:  # another commune's desk does not see it
            supplements.prefill(s, world.user(s, "xa_a2_clerk"), incomplete)
            raise AssertionError("another desk reopened it")
        except NotFound:
            pass


def test_the_report_counts_mau_02_at_intake_and_keeps_its_totals(world: World, tmp_path: Path) -> None:
    from engine import public

    with world.db.transaction() as s:
        clerk = world.user(s, "xa_a1_clerk")
        first = supplements.reception.record_intake_outcome(
            s, clerk, "ho_tro_mai_tang", APPLICANT, "incomplete", "", missing=["Giấy chứng tử của đối tượng"],
            now=at("2025-03-10 09:00")).code
        online = public.submit_online(s, "ho_tro_mai_tang", "XA_A1", APPLICANT, {},
                                      [public.Upload("to_khai", "to_khai.pdf", io.BytesIO(PDF)),
                                       public.Upload("giay_chung_tu", "chung-tu.pdf", io.BytesIO(PDF))], tmp_path / "d",
                                      1 << 20, now=at("2025-03-11 09:00")).code
        public.request_supplement_online(s, clerk, online, ["Giấy chứng tử của đối tượng"], "",
                                         now=at("2025-03-11 10:00"))
    with world.db.transaction() as s:
        supplements.receive_at_desk(s, world.user(s, "xa_a1_clerk"), first, APPLICANT,
                                    {"documents_received": ["to_khai", "giay_chung_tu"]}, now=at("2025-03-12 09:00"))

    def figures(start: str, end: str) -> dict[str, Any]:
        with world.db.transaction() as s:
            admin = world.user(s, "admin")
            return reports.summary(s, filters_for(s, admin, start, end))

    march = figures("2025-03-01", "2025-03-31")
    assert march["intake_incomplete"] == 2  # one at the desk, one online
    # The supplemented dossier is received once (the new case); the first attempt is neither received nor refused.
    assert march["received_new"] == 1 and march["received_desk"] == 1 and march["refused"] == 0
    assert march["received_carried_over"] + march["received_new"] == (
        march["resolved_early"] + march["resolved_on_time"] + march["resolved_late"] + march["in_progress_in_time"]
        + march["in_progress_overdue"] + march["paused"] + march["withdrawn"])
    assert figures("2025-04-01", "2025-04-30")["intake_incomplete"] == 0
    with world.db.transaction() as s:
        behind = reports.drill_down(s, filters_for(s, world.user(s, "admin"), "2025-03-01", "2025-03-31"),
                                    "intake_incomplete")
        assert {c.code for c in behind.cases} == {first, online}
