"""Assignment and deputies in a real browser: a head of huyện Hòa An gives a district step to a specialist
who completes it; a specialist going away names a deputy who completes a step on their behalf, and the
Phiếu kiểm soát (case page and PDF) names both."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from engine import cases, org
from engine.models import Case, User, WorkItem
from tests.browser.conftest import LiveServer, shot
from tests.browser.test_officials_day import fill_task_form

DEPUTY = "Trần Thị Bình"


def district_case(server: LiveServer) -> tuple[str, int]:
    """A case received at xã An Phú and moved by the engine to huyện Hòa An's specialist; plus a second
    specialist there. Returns (case code, the district step's id)."""
    with server.db.transaction() as s:
        org.add_user(s, "huyen_a_specialist2", "HUYEN_A", ["specialist"], password="motcua2026", full_name=DEPUTY)
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        code = cases.receive(s, clerk, "ncc_mai_tang", {"name": "Nguyễn Văn An"}, {}).code
    for _ in range(5):
        with server.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            item = cases.open_items(s, case)[0]
            if item.unit.code == "HUYEN_A":
                return code, item.id
            who = s.scalar(select(User).where(User.username == f"{item.unit.code.lower()}_{item.role_code}"))
            cases.complete_task(s, who, item.id, {"outcome": "approve"})
    raise AssertionError("the case never reached huyện Hòa An")


def complete_from_inbox(page, server: LiveServer, code: str) -> None:
    page.goto(f"{server.url}/inbox?claimed=me")
    page.locator(f"tr[data-case='{code}'] a.task-link").click()
    fill_task_form(page, "Đồng ý")
    page.click("#complete-btn")
    page.wait_for_selector("#moved")


def test_head_assigns_a_district_step_to_a_specialist_who_completes_it(page, live_server, login) -> None:
    code, item_id = district_case(live_server)
    login("huyen_a_head")
    page.get_by_role("link", name="Phân công").click()
    assert page.locator("#load-table tr[data-user=''] .n-open").inner_text() == "1"
    page.goto(f"{live_server.url}/tasks/{item_id}")
    # The dialog shows each candidate's load, so the head gives it to the one with least on their desk.
    option = page.locator("#a-user option[value='huyen_a_specialist2']").inner_text()
    assert DEPUTY in option and "0 việc đang mở, 0 quá hạn" in option
    page.select_option("#a-user", "huyen_a_specialist2")
    page.fill("#a-note", "Anh/chị ưu tiên giúp")
    page.click("#assign-btn")
    assert DEPUTY in page.inner_text("#assigned-to")
    shot(page, "officials-assign")
    assert "1 việc đang mở, 0 quá hạn" in page.locator("#a-user option[value='huyen_a_specialist2']").inner_text()
    page.click("#a-load a")
    assert page.locator("#load-table tr[data-user='huyen_a_specialist2'] .n-open").inner_text() == "1"
    # The other specialist sees who holds it and cannot act; the assignee finds it under "Của tôi".
    login("huyen_a_specialist")
    page.goto(f"{live_server.url}/tasks/{item_id}")
    assert page.locator("#complete-btn").count() == 0
    login("huyen_a_specialist2")
    page.goto(f"{live_server.url}/inbox")
    # The bell told every specialist when the step reached the unit, then the assignee once more with the head's note.
    assert page.inner_text("#bell-count") == "2"
    page.click("#bell summary")
    assert "Anh/chị ưu tiên giúp" in page.inner_text("#bell")
    complete_from_inbox(page, live_server, code)
    assert "Sở Lao động" in page.inner_text("#moved")
    with live_server.db.transaction() as s:
        assert s.get(WorkItem, item_id).completed_by.username == "huyen_a_specialist2"


def test_a_deputy_completes_a_step_on_behalf_and_mau_05_shows_both_names(page, live_server, login) -> None:
    code, item_id = district_case(live_server)
    login("huyen_a_specialist")
    page.goto(f"{live_server.url}/tasks/{item_id}")
    page.click("form.claim-inline button")  # the specialist takes the step, then has to leave
    page.get_by_role("link", name="Ủy quyền").click()
    page.select_option("#d-to", "huyen_a_specialist2")
    page.click("#delegate-btn")
    assert DEPUTY in page.inner_text("#delegations")
    login("huyen_a_specialist2")
    page.goto(f"{live_server.url}/tasks/{item_id}")
    assert "thay mặt" in page.inner_text("#acting-for")
    complete_from_inbox(page, live_server, code)
    page.goto(f"{live_server.url}/cases/{code}")
    timeline = page.inner_text("#control-timeline")
    with live_server.db.transaction() as s:
        boss = s.scalar(select(User).where(User.username == "huyen_a_specialist")).full_name
    assert f"{DEPUTY} thay mặt {boss}" in timeline
    shot(page, "officials-deputy-case")
    r = page.request.get(f"{live_server.url}/cases/{code}/slips/05.pdf")
    assert r.status == 200
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(r.body())).pages)
    assert DEPUTY in " ".join(text.split()) and boss in " ".join(text.split())


def test_comments_show_on_the_case_page_in_time_order(page, live_server, login) -> None:
    code, _item_id = district_case(live_server)
    login("huyen_a_specialist")
    page.goto(f"{live_server.url}/cases/{code}")
    page.fill("#c-text", "Xã bổ sung bản sao giấy báo tử giúp")
    page.select_option("#c-mentions", "xa_a1_specialist")
    page.click("#comment-btn")
    login("xa_a1_specialist")
    page.goto(f"{live_server.url}/cases/{code}")
    page.fill("#c-text", "Đã gửi bổ sung")
    page.click("#comment-btn")
    items = page.locator("#comment-list li").all_inner_texts()
    assert "giấy báo tử" in items[0] and "Đã gửi bổ sung" in items[1] and "@xa_a1_specialist" in items[0]
    assert "giấy báo tử" not in page.inner_text("#control-timeline")


def test_a_saved_inbox_filter_shared_with_the_unit_and_a_follow_up(page, live_server, login) -> None:
    _code, item_id = district_case(live_server)
    login("huyen_a_specialist")
    page.goto(f"{live_server.url}/inbox?claimed=none")
    page.fill("#view-name", "Chưa ai nhận")
    page.check("#save-view input[name=shared]")
    page.click("#save-view button")
    assert page.locator("#saved-views a[data-view]").inner_text().startswith("Chưa ai nhận")
    login("huyen_a_specialist2")
    page.goto(f"{live_server.url}/inbox")
    page.locator("#saved-views a[data-view]").click()
    expect(page).to_have_url(re.compile("claimed=none"))
    expect(page.locator(f"tr[data-item='{item_id}']")).to_have_count(1)
    page.goto(f"{live_server.url}/tasks/{item_id}")
    page.fill("#fu-at", "2099-01-02T08:30")
    page.click("#follow-up button")
    assert "08:30" in page.inner_text("#follow-up-at")


def test_bulk_claim_in_the_inbox_and_receipts_of_selected_cases_as_one_pdf(page, live_server, login) -> None:
    codes = [district_case(live_server)[0]]
    with live_server.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        codes += [cases.receive(s, clerk, "ncc_mai_tang", {"name": f"Người nộp {i}"}, {}).code for i in range(2)]
    login("xa_a1_specialist")
    page.goto(f"{live_server.url}/inbox")
    for code in codes[1:]:
        page.check(f"tr[data-case='{code}'] input.bulk-pick")
    page.click("#bulk-claim button")
    assert "Đã nhận xử lý 2 việc" in page.inner_text(".flashes")
    login("xa_a1_clerk")
    page.goto(f"{live_server.url}/cases")
    for code in codes:
        page.check(f"input.bulk-pick[value='{code}']")
    with page.context.expect_event("response", lambda r: r.url.endswith("/cases/bulk")) as answer:
        page.click("#bulk-cases button[value='01']")  # opens the PDF in a new tab
    # The new tab shows the PDF in chromium's viewer; its content is checked in tests/test_bulk_api.py.
    assert answer.value.status == 200 and answer.value.headers["content-type"] == "application/pdf"
    with page.expect_download() as download:  # the sheet downloads in place, no empty tab left open
        page.click("#bulk-cases button[value='excel']")
    assert download.value.suggested_filename == "ho-so.xlsx"
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(codes)


def test_the_heatmap_shows_the_right_counts_for_a_prepared_scenario(page, live_server, login) -> None:
    from tests.conftest import World
    from tests.test_heatmap import prepared

    element1, element2 = prepared(World(live_server.db), live_server.db)
    login("huyen_a_head")
    page.goto(f"{live_server.url}/reports")
    page.click("#heatmap-link")
    page.fill("#h-from", "2026-11-01")
    page.fill("#h-to", "2026-12-31")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#diagram[data-ready=true]")
    badge1, badge2 = (page.locator(f"a.heat-badge[data-element='{e}']") for e in (element1, element2))
    assert badge1.inner_text() == "2" and badge2.inner_text() == "2"
    assert "heat-badge-late" in badge2.get_attribute("class")
    assert page.locator(f"g[data-element-id='{element2}'].heat-4.heat-late").count() == 1
    row = page.locator(f"#heat-table tr[data-element='{element1}']")
    assert row.locator(".waiting").inner_text() == "2" and row.locator(".overdue").inner_text().startswith("1 (50")
    assert row.locator(".completed").inner_text() == "2"
    assert "3,5" in row.inner_text() and "4,3" in row.inner_text()  # working hours, Vietnamese decimals
    shot(page, "officials-heatmap")
    badge2.click()
    expect(page.locator("#heat-cases tbody tr")).to_have_count(2)


def test_the_766_score_with_formulas_and_the_cases_that_cost_points(page, live_server, login) -> None:
    from tests.conftest import World
    from tests.test_score766 import scenario

    codes = scenario(World(live_server.db), live_server.db)
    login("huyen_a_head")
    page.goto(f"{live_server.url}/reports?from=2026-01-01&to=2026-12-31")
    page.click("#score766-link")
    row = page.locator("#score766 tr[data-index='2.1']")
    assert row.locator(".value").inner_text().startswith("40 %")
    assert "ngày hẹn trả" in row.locator(".formula").inner_text()
    row.locator(".costs a").click()
    listed = page.locator("#heat-cases tbody tr").all_inner_texts()
    assert len(listed) == 3 and any(codes["twice"] in r for r in listed)
