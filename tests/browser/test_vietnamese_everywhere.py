"""Vietnamese everywhere: every role walks every page it may open, plus the designer with its palette, context
pad, replace menu, properties panel, lint messages and form editor open, a task form with a date picker and a
required-field error, and the public pages — and no English UI word is shown (text, title, placeholder,
aria-label). On an English page the same widgets speak English (Vietnamese first, English second)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engine import cases
from engine.models import Case, User

# English words and phrases the widgets and the engine used to show on Vietnamese pages. Matched as whole words
# and case-sensitively, so Vietnamese text and data in Vietnamese never match.
ENGLISH = (
    "Field is required", "is required", "must be", "must have", "Select", "Search", "Create", "Append", "Connect",
    "Remove", "Delete", "Change element", "Activate", "No results", "Toggle", "Open documentation",
    "Sunday", "Monday", "Tuesday", "January", "February", "March", "December", "Sun", "Mon", "Year", "Month",
    "Errors", "Warnings", "No Issues", "Element is", "Flow splits", "Start event", "End event", "User Task",
    "Task", "Gateway", "Sequence flow", "General", "Name", "Documentation", "Executable", "Properties",
    "Components", "Text field", "Validation", "Required", "Label", "Back", "not found", "does not exist",
)
_PATTERNS = [(w, re.compile(r"(?<!\w)" + re.escape(w) + r"(?!\w)")) for w in ENGLISH]

# Visible text nodes and the attributes people read (tooltips, placeholders, screen-reader labels); bpmnlint's
# issue lists count although they open on hover, and so do the month names of the date picker's drop-down.
COLLECT = """() => {
  const out = [];
  const shown = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden') return false;
    }
    return el.getClientRects().length > 0;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, p = n.parentElement, t = n.nodeValue.trim();
    if (!t || !p || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEXTAREA', 'CODE'].includes(p.tagName)) continue;
    if (shown(p)) out.push(t);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    if (!shown(el)) continue;
    for (const a of ['title', 'placeholder', 'aria-label']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  for (const el of document.querySelectorAll('.bjsl-overlay li .message, .flatpickr-monthDropdown-month')) {
    out.push(el.textContent.trim());
  }
  return out;
}"""


def english_in(texts: list[str]) -> list[tuple[str, str]]:
    """(English word, the text it was found in) for every known English UI word in `texts`."""
    return [(word, text) for text in texts for word, pattern in _PATTERNS if pattern.search(text)]


def check_page(page: Any, where: str, found: dict[str, list[tuple[str, str]]]) -> None:
    hits = english_in(page.evaluate(COLLECT))
    if hits:
        found[where] = sorted(set(hits))[:12]


def test_the_detector_knows_the_english_it_hunts() -> None:
    """The detector is honest: it flags what form-js, bpmn-js and the engine said in English, and not their
    Vietnamese translations nor Vietnamese data."""
    english = ["Field is required.", "Select", "Create start event", "Append task", "Connect to other element",
               "Remove", "Sunday", "January", "applicant.name is required", "2 Errors, 1 Warnings",
               "Element is missing label/name", "procedure 'x' not found"]
    assert all(english_in([t]) for t in english), [t for t in english if not english_in([t])]
    vietnamese = ["Trường này là bắt buộc.", "Chọn", "Tạo sự kiện bắt đầu", "Nối bước (tác vụ)", "Xóa", "Chủ nhật",
                  "Tháng một", "Chưa nhập họ và tên người nộp hồ sơ", "2 lỗi, 1 cảnh báo", "Phần tử chưa có tên",
                  "Trợ cấp mai táng người có công", "UBND xã An Phú", "000.31.31.H99-260301-0001"]
    assert english_in(vietnamese) == []


def _receive(server: Any) -> str:
    with server.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        return cases.receive(s, clerk, "ncc_mai_tang", {"name": "Nguyễn Thị Hoa", "id_number": "036190002222",
                                                        "address": "Thôn 2, xã An Phú"}, {}).code


def _advance_to(server: Any, code: str, step: str) -> tuple[int, str]:
    """Complete the case's steps (approving) until `step` is open; (its work item id, the user who does it)."""
    for _ in range(20):
        with server.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            item = cases.open_items(s, case)[0]
            user = s.scalar(select(User).where(User.username == f"{item.unit.code.lower()}_{item.role_code}"))
            if item.task_bpmn_id == step:
                return item.id, user.username
            cases.complete_task(s, user, item.id, {"outcome": "approve"})
    raise AssertionError(f"{code} never reached {step}")


def _designer(page: Any, url: str) -> None:
    page.goto(f"{url}/designer/ncc_mai_tang")
    page.wait_for_selector("body[data-ready=true]")
    # A new, unconnected, unnamed task: bpmnlint and motcua's rules both have something to say about it.
    page.evaluate("""() => {
      const m = window.motcuaModeler, root = m.get('canvas').getRootElement();
      const shape = m.get('modeling').createShape({ type: 'bpmn:Task' }, { x: 300, y: 80 }, root.children[0] || root);
      m.get('selection').select(shape);
    }""")
    page.wait_for_selector(".djs-context-pad .entry")
    page.wait_for_selector(".bio-properties-panel-header")
    page.wait_for_function("document.querySelectorAll('.bjsl-overlay li').length > 0")


def test_every_page_is_vietnamese_for_every_role(page: Any, live_server: Any, login: Any) -> None:
    url = live_server.url
    code = _receive(live_server)
    found: dict[str, list[tuple[str, str]]] = {}

    for where in ("/login", "/thu-tuc", "/tra-cuu", f"/tra-cuu?code={code}&secret=sai"):
        page.goto(url + where)
        check_page(page, where, found)
    page.goto(f"{url}/thu-tuc")
    procedure = page.locator("main a[href^='/thu-tuc/']").first.get_attribute("href")
    page.goto(url + procedure)
    check_page(page, procedure, found)
    online = page.locator("a[href$='/nop-truc-tuyen']")
    if online.count():
        page.goto(url + online.first.get_attribute("href"))
        check_page(page, "online submission", found)
        page.locator("main form button[type=submit]").last.click()  # nothing filled in: the errors show
        page.wait_for_load_state()
        check_page(page, "online submission refused", found)

    for username in ("xa_a1_clerk", "xa_a1_specialist", "huyen_a_head", "huyen_a_leader", "tinh_specialist",
                     "tinh_leader", "admin", "designer"):
        login(username)
        check_page(page, f"{username} home", found)
        links = page.eval_on_selector_all("nav.mainnav a", "els => els.map(a => a.getAttribute('href'))")
        for href in links:
            page.goto(url + href)
            check_page(page, f"{username} {href}", found)
        if username == "xa_a1_clerk":
            page.goto(f"{url}/cases/{code}")
            check_page(page, f"{username} case page", found)
            page.goto(f"{url}/cases/NO-SUCH-CASE")
            check_page(page, f"{username} missing case", found)
            page.goto(f"{url}/reception")
            procedures = page.locator("select[name=procedure] option[value]:not([value=''])")
            if procedures.count():
                page.goto(f"{url}/reception?procedure={procedures.first.get_attribute('value')}")
                page.locator("button[name=action][value=accept]").click()  # no applicant name
                page.wait_for_load_state()
                check_page(page, "reception without a name", found)

    # The leaders' pages reached from Báo cáo rather than the menu: the diagram as a heatmap, the 766 score
    # and its drill-down.
    login("huyen_a_head")
    for where in ("/reports/heatmap?procedure=ncc_mai_tang", "/reports/766", "/reports/766/cases?index=2.1"):
        page.goto(url + where)
        if "heatmap" in where:
            page.wait_for_selector("#diagram[data-ready=true]")
        check_page(page, f"huyen_a_head {where}", found)

    # The designer with everything open: context pad and properties of a selected task, the replace menu,
    # the lint overlays, then the form editor.
    login("designer")
    _designer(page, url)
    check_page(page, "designer: task selected", found)
    page.locator(".djs-context-pad .entry[data-action='replace']").click()
    page.wait_for_selector(".djs-popup .entry")
    check_page(page, "designer: replace menu", found)
    page.keyboard.press("Escape")
    page.click("#btn-forms")
    page.wait_for_selector("#form-editor .fjs-palette-field")
    check_page(page, "designer: form editor", found)

    # A task form with a date picker and a required field left empty.
    item_id, username = _advance_to(live_server, code, "province_decide")
    login(username)
    page.goto(f"{url}/tasks/{item_id}")
    page.wait_for_selector("#form-js[data-ready=true]")
    date_input = page.locator(".fjs-form-field-datetime input").first
    assert date_input.get_attribute("placeholder") == "dd/mm/yyyy"
    date_input.click()
    page.wait_for_selector(".flatpickr-calendar.open")
    weekdays = page.eval_on_selector_all(".flatpickr-calendar.open .flatpickr-weekday",
                                         "els => els.map(e => e.textContent.trim())")
    assert weekdays[0] == "T2" and weekdays[-1] == "CN", weekdays  # Monday first, Vietnamese names
    check_page(page, "task form: date picker", found)
    page.keyboard.press("Escape")
    page.click("#complete-btn")
    page.wait_for_selector(".fjs-form-field-error")
    errors = page.locator(".fjs-form-field-error").all_inner_texts()
    check_page(page, "task form: required field", found)

    assert not found, "English on Vietnamese pages:\n" + "\n".join(f"{k}: {v}" for k, v in found.items())
    assert any("Trường này là bắt buộc." in e for e in errors), errors


def test_english_pages_keep_the_widgets_english(page: Any, live_server: Any, login: Any) -> None:
    """English second: the language switch turns the widgets' words back to English."""
    login("designer")
    page.goto(f"{live_server.url}/designer")
    page.locator("form[action$='/lang/en'] button").click()
    page.wait_for_load_state()
    _designer(page, live_server.url)
    titles = page.eval_on_selector_all(".djs-palette .entry", "els => els.map(e => e.getAttribute('aria-label'))")
    assert "Create start event" in titles, titles
    lint = page.eval_on_selector_all(".bjsl-overlay li .message", "els => els.map(e => e.textContent.trim())")
    assert "The step has no time limit (deadline_days, working days)" in lint, lint
