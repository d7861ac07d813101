"""A citizen on a phone (390×844, touch) goes through a real online dossier: the catalog, the procedure page,
the online form, the lookup, the supplement upload the desk asks for, the result download, the rating and the
document check; the official who gets the step opens the inbox and the case page on a phone too. On every page
nothing scrolls sideways, every table is shown as cards labelled in Vietnamese, and the controls are big enough
for a thumb.
The catalog is also checked at 360 and 414 px, where procedure names must not fall one word per line."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import cases, public, step_documents
from engine.models import Case, Notification, User, WorkItem
from engine.status import Status
from tests.browser.conftest import PASSWORD, LiveServer, shot

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PHONE = {"width": 390, "height": 844}
MIN_TAP = 40

# What the page measures: its own width against the viewport's, the elements that stick out, how every table
# is drawn, and the size of everything a thumb has to hit.
MEASURE = """(tap) => {
  const vw = window.innerWidth;
  // checkVisibility: not in a closed <details> (whose content keeps a size in chromium), not hidden
  const visible = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true }); };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const size = (el) => { const r = el.getBoundingClientRect();
    return Math.round(r.width) + 'x' + Math.round(r.height); };
  const sticking = [...document.querySelectorAll('body *')].filter(visible)
    .filter((el) => el.getBoundingClientRect().right > vw + 0.5 && !el.closest('.sr-only, thead'))
    .map((el) => name(el) + ' right=' + Math.round(el.getBoundingClientRect().right)).slice(0, 10);
  const shownLabel = (c) => getComputedStyle(c, '::before').content === JSON.stringify(c.dataset.label);
  const tables = [...document.querySelectorAll('main table')].filter(visible).map((t) => {
    const head = t.tHead ? t.tHead.getBoundingClientRect() : null;
    const rows = [...t.querySelectorAll(':scope > tbody > tr')].filter(visible);
    const cells = rows.flatMap((r) => [...r.children]).filter((c) => c.dataset.label !== undefined && visible(c));
    return { table: name(t), display: getComputedStyle(t).display,
      headHidden: !head || head.width <= 1 || head.height <= 1,
      rowsBlock: rows.every((r) => getComputedStyle(r).display === 'block'),
      rowsFit: rows.every((r) => r.getBoundingClientRect().right <= vw + 0.5),
      labelled: cells.length, labelsShown: cells.filter(shownLabel).length };
  });
  const targets = 'header a, header button, header summary, main a.btn, main button, main summary, main select, ' +
    'main textarea, main input:not([type=hidden]), main .card-title a, #result-docs a';
  const small = [...document.querySelectorAll(targets)]
    .map((el) => (el.matches('input[type=radio], input[type=checkbox]') && el.closest('label')) || el)
    .filter(visible)
    .filter((el) => { const r = el.getBoundingClientRect(); return r.height < tap || r.width < tap; })
    .map((el) => name(el) + ' «' + (el.textContent || el.value || '').trim().slice(0, 30) + '» ' + size(el));
  return { innerWidth: vw, scrollWidth: document.documentElement.scrollWidth, sticking, tables,
           small: [...new Set(small)] };
}"""


def check_phone_page(page: Any, width: int, what: str) -> dict:
    """Assert what a phone user notices: no sideways scrolling, tables as labelled cards, tap targets ≥ 40 px."""
    page.wait_for_load_state("load")  # stylesheets applied
    m = page.evaluate(MEASURE, MIN_TAP)
    assert m["innerWidth"] == width, f"{what}: the layout viewport grew to {m['innerWidth']} px"
    assert m["scrollWidth"] <= width, f"{what}: scrolls sideways ({m['scrollWidth']} > {width}): {m['sticking']}"
    for t in m["tables"]:
        table = t["table"]
        assert t["display"] != "table" and t["headHidden"] and t["rowsBlock"], f"{what}: {table} is not cards: {t}"
        assert t["rowsFit"], f"{what}: a card of {table} is wider than the screen"
        assert t["labelsShown"] == t["labelled"], f"{what}: {table} shows {t['labelsShown']}/{t['labelled']} labels"
    assert not m["small"], f"{what}: tap targets under {MIN_TAP} px: {m['small']}"
    return m


def tap_to(page: Any, target: Any) -> None:
    """Tap a link or a submit button with a finger and wait for the page it opens."""
    with page.expect_navigation():
        target.tap()


def swipe(page: Any, target: Any, dx: int) -> None:
    """A one-finger horizontal swipe across the middle of `target` (real touch events through CDP)."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 7):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + dx * step / 6, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    # Chromium takes a tap that follows a swipe within a moment as part of that gesture and makes no click of it;
    # a finger needs longer than this to reach the next button anyway.
    page.wait_for_timeout(1000)


def card_labels(row: Any) -> list[str]:
    """The column names a card shows beside its cells (drawn by CSS from data-label, so not in innerText)."""
    return row.evaluate("""(tr) => [...tr.children].map((c) => getComputedStyle(c, '::before').content)
        .filter((c) => c && c !== 'none').map((c) => JSON.parse(c))""")


@pytest.fixture
def phone(browser: Any) -> Iterator[Callable[[int], Any]]:
    """A touch phone's page at a given width (844 px high), Vietnamese, failing on CSP violations like `page`."""
    contexts: list[Any] = []
    violations: list[str] = []

    def open_phone(width: int = PHONE["width"]) -> Any:
        context = browser.new_context(viewport={"width": width, "height": PHONE["height"]}, is_mobile=True,
                                      has_touch=True, device_scale_factor=2, locale="vi-VN",
                                      timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        pg = context.new_page()
        pg.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
        return pg

    try:
        yield open_phone
    finally:
        for context in contexts:
            context.close()
    assert not violations, violations


def _desk(server: LiveServer, work: Callable[[Any, User], None]) -> None:
    with server.db.transaction() as s:
        work(s, s.scalar(select(User).where(User.username == "xa_a1_clerk")))


def _assignee(s: Any, item: WorkItem) -> User:
    return s.scalar(select(User).where(User.username == f"{item.unit.code.lower()}_{item.role_code}"))


def _open_item(server: LiveServer, code: str) -> tuple[str, str]:
    """(step id, username of the demo official who does it) of the case's open step."""
    with server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        item = cases.open_items(s, case)[0]
        return item.task_bpmn_id, _assignee(s, item).username


def _told(s: Any, username: str, code: str, kind: str) -> list[str]:
    """The bell's messages of `kind` about case `code` for `username`."""
    return list(s.scalars(select(Notification.message).join(User, User.id == Notification.user_id)
                          .join(Case, Case.id == Notification.case_id)
                          .where(User.username == username, Case.code == code, Notification.kind == kind)))


def _process_to_return(server: LiveServer, code: str) -> list[str]:
    """The officials' part (tested in their own browser tests): every step approved; the desk's return step
    attaches the decision as the result the citizen downloads. Each assignee must have been told of the step
    in the bell before doing it; returns the usernames that did the steps, level by level."""
    done_by: list[str] = []
    while True:
        with server.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            if case.status_code == Status.RETURNED:
                return done_by
            item = cases.open_items(s, case)[0]
            user = _assignee(s, item)
            assert any(f"«{item.name}»" in m for m in _told(s, user.username, code, "new_work")), \
                f"{user.username} was not told of «{item.name}»"
            done_by.append(user.username)
            if item.task_bpmn_id == "return_result":
                step_documents.attach(s, server.instance_path / "documents", user, item, "quyet-dinh-ho-tro.pdf",
                                      io.BytesIO(PDF), 10 * 1024 * 1024, result=True)
            cases.complete_task(s, user, item.id, {"outcome": "approve"})


def _lookup(page: Any, url: str, code: str, secret: str) -> None:
    page.goto(f"{url}/tra-cuu")
    page.fill("#code", code)
    page.fill("#secret", secret)
    tap_to(page, page.locator("form.lookup-form button[type=submit]"))


def test_a_citizen_goes_from_catalog_to_rating_on_a_phone(phone: Any, live_server: LiveServer,
                                                           tmp_path: Path) -> None:
    url, width = live_server.url, PHONE["width"]
    page = phone(width)
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)

    page.goto(f"{url}/thu-tuc")
    check_phone_page(page, width, "catalog")
    shot(page, "phone-catalog")
    tap_to(page, page.locator('td.card-title a[href$="/thu-tuc/ho_tro_mai_tang"]'))
    assert page.locator("h1").inner_text() == "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội"
    check_phone_page(page, width, "procedure page")
    assert card_labels(page.locator("table.docs-table tbody tr").first) == ["Số lượng", "Bắt buộc"]
    shot(page, "phone-procedure")

    tap_to(page, page.get_by_role("link", name="Nộp hồ sơ trực tuyến"))
    check_phone_page(page, width, "online form")
    page.select_option("#unit", "XA_A1")
    page.fill("#ap-name", "Võ Thị Lan")
    page.fill("#ap-phone", "0933444555")
    page.set_input_files("#doc-to_khai", str(scan))
    page.set_input_files("#doc-giay_chung_tu", str(scan))
    shot(page, "phone-submit")
    tap_to(page, page.get_by_role("button", name="Gửi hồ sơ"))
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    assert re.fullmatch(r"000\.31\.31\.H99-\d{6}-\d{4}", code)
    check_phone_page(page, width, "submitted")

    _lookup(page, url, code, secret)
    assert page.locator("#lookup-status").inner_text() == "Mới đăng ký"
    check_phone_page(page, width, "lookup")
    with live_server.db.transaction() as s:  # the desk is told the dossier is waiting for it
        assert _told(s, "xa_a1_clerk", code, "online_waiting")

    # The desk asks for a supplement; the citizen uploads it from the lookup on the phone.
    _desk(live_server, lambda s, clerk: public.request_supplement_online(
        s, clerk, code, ["Giấy chứng tử bản sao có chứng thực"], "Bản chụp chưa rõ"))
    _lookup(page, url, code, secret)
    assert "Giấy chứng tử bản sao có chứng thực" in page.locator("#lookup-supplement").inner_text()
    check_phone_page(page, width, "lookup with a supplement request")
    shot(page, "phone-supplement")
    page.set_input_files("#sup-files", str(scan))
    tap_to(page, page.get_by_role("button", name="Gửi bổ sung"))
    assert "Đã gửi giấy tờ bổ sung" in page.locator(".flashes").inner_text()
    check_phone_page(page, width, "supplement sent")

    # The desk accepts it; the official who gets the first step works from a phone as well.
    _desk(live_server, lambda s, clerk: public.accept_online(s, clerk, code))
    _step, username = _open_item(live_server, code)
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    tap_to(page, page.locator("main form button[type=submit]"))
    page.goto(f"{url}/inbox")
    assert page.locator("#bell-count").inner_text().strip() != ""  # the bell announces the new step
    page.locator("#bell summary").tap()
    assert code in page.locator("#bell .bell-menu").inner_text()
    page.locator("#bell summary").tap()
    row = page.locator(f"tr[data-case='{code}']")
    assert "Võ Thị Lan" in row.inner_text()
    assert card_labels(row) == ["Hạn xử lý", "Mã hồ sơ", "Bước", "Thủ tục", "Người nộp", "Người xử lý"]
    check_phone_page(page, width, "officials' inbox")
    shot(page, "phone-inbox")
    tap_to(page, row.locator("a", has_text=code))
    page.wait_for_selector("#diagram[data-ready=true]")
    check_phone_page(page, width, "case page")
    # A sideways swipe over the diagram moves the drawing, not the page.
    drawing = "document.querySelector('#diagram .viewport').getBoundingClientRect().left"
    before = page.evaluate(drawing)
    swipe(page, page.locator("#diagram"), -120)
    assert page.evaluate(drawing) < before - 60
    assert page.evaluate("scrollX") == 0
    shot(page, "phone-case")
    tap_to(page, page.locator("form[action$='/logout'] button"))

    done_by = _process_to_return(live_server, code)
    assert len({name.split("_")[0] for name in done_by}) >= 2, done_by  # through more than one level
    _lookup(page, url, code, secret)
    assert page.locator("#lookup-status").inner_text() == "Đã trả kết quả"
    check_phone_page(page, width, "lookup with the result")
    shot(page, "phone-result")
    with page.expect_download() as download:
        page.locator("#result-docs a", has_text="quyet-dinh-ho-tro.pdf").tap()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    tap_to(page, page.locator("#rate-button"))
    check_phone_page(page, width, "rating")
    shot(page, "phone-rating")
    for group in page.locator("td[role=radiogroup]").all():
        group.locator("label", has_text="2").tap()
    tap_to(page, page.get_by_role("button", name="Gửi đánh giá"))
    assert "Cảm ơn ông/bà đã đánh giá" in page.locator(".flashes").inner_text()
    check_phone_page(page, width, "rated")

    # The downloaded decision can be checked from the phone too.
    page.goto(f"{url}/xac-thuc")
    page.set_input_files("#verify-file", download.value.path())
    tap_to(page, page.locator("#verify-btn"))
    assert page.locator("#verdict-text").is_visible()
    check_phone_page(page, width, "document check")


WORDS_PER_LINE = """() => [...document.querySelectorAll('main td.card-title a')].map((a) => {
  const lines = Math.round(a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight));
  return { name: a.textContent.trim(), words: a.textContent.trim().split(/\\s+/).length, lines: Math.max(lines, 1),
           fontSize: parseFloat(getComputedStyle(a).fontSize) };
})"""


@pytest.mark.parametrize("width", [360, 390, 414])
def test_the_catalog_reads_as_cards_at_phone_widths(phone: Any, live_server: LiveServer, width: int) -> None:
    page = phone(width)
    page.goto(f"{live_server.url}/thu-tuc")
    check_phone_page(page, width, f"catalog at {width} px")
    names = page.evaluate(WORDS_PER_LINE)
    assert len(names) >= 5
    for n in names:
        # A procedure name runs across its card: several words a line, never one under another.
        assert n["words"] / n["lines"] >= 4, f"{n['name']!r} wraps into {n['lines']} lines at {width} px"
        assert n["fontSize"] >= 15
    assert card_labels(page.locator("main table tbody tr").first) == ["Cấp giải quyết", "Thời hạn", "Phí, lệ phí",
                                                                      "Trực tuyến"]
    shot(page, f"phone-catalog-{width}", full_page=False)
