"""The case page's diagram in chromium: it opens with labels an official can read (≥ 10 px on screen, at office
and phone widths), its Vietnamese +, − and "Vừa khung" buttons zoom it, and the mouse wheel scrolls the page
until the diagram is clicked — then the wheel zooms the diagram and the page stays put."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import cases
from engine.models import User
from tests.browser.conftest import LiveServer, shot

READABLE_PX = 10

# The smallest label on screen: each <text>'s font size times the scale the SVG is drawn at; the scale itself.
LABELS = """() => {
  const texts = [...document.querySelectorAll('#diagram .djs-element text')].filter((t) => t.textContent.trim());
  const scale = (m) => Math.hypot(m.a, m.b);  // lane names are turned 90°: their scale sits in b
  const sizes = texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale(t.getScreenCTM()));
  const heights = texts.map((t) => { const r = t.getBoundingClientRect();
    return Math.min(r.width, r.height) / Math.max(1, t.querySelectorAll('tspan').length); });
  return { count: texts.length, min: Math.min(...sizes), lineHeight: Math.min(...heights),
           scale: scale(document.querySelector('#diagram .viewport').getScreenCTM()) };
}"""


def _case_page(page: Any, server: LiveServer, login: Any) -> None:
    with server.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        code = cases.receive(s, clerk, "ho_tro_mai_tang", {"name": "Lê Văn Tâm"}).code
    login("xa_a1_clerk")
    page.goto(f"{server.url}/cases/{code}")
    page.wait_for_selector("#diagram[data-ready=true]")


def _labels(page: Any) -> dict:
    page.wait_for_timeout(100)  # zoom and wheel handlers redraw on the next frame
    return page.evaluate(LABELS)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_diagram_opens_with_readable_labels(page: Any, live_server: LiveServer, login: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    _case_page(page, live_server, login)
    labels = _labels(page)
    assert labels["count"] > 5
    assert labels["min"] >= READABLE_PX, f"labels drawn at {labels['min']:.1f} px at {width} px wide"
    assert labels["lineHeight"] >= READABLE_PX
    # Fitted to its frame: the drawing spans the frame's width (or overflows it, to be dragged, when it would
    # otherwise be too small to read) and the page itself does not scroll sideways.
    frame = page.locator("#diagram").bounding_box()
    drawing = page.evaluate("document.querySelector('#diagram .viewport').getBoundingClientRect().width")
    assert drawing >= frame["width"] * 0.9
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.locator("#diagram").scroll_into_view_if_needed()
    shot(page, f"case-diagram-{width}", full_page=False)


def test_zoom_buttons_change_the_zoom(page: Any, live_server: LiveServer, login: Any) -> None:
    _case_page(page, live_server, login)
    fitted = _labels(page)["scale"]
    tools = page.get_by_role("toolbar", name="Thu phóng sơ đồ")
    tools.get_by_role("button", name="Phóng to").click()
    bigger = _labels(page)
    assert bigger["scale"] > fitted * 1.1
    tools.get_by_role("button", name="Thu nhỏ").click()
    tools.get_by_role("button", name="Thu nhỏ").click()
    smaller = _labels(page)
    assert smaller["scale"] < fitted * 0.95
    assert smaller["min"] < READABLE_PX  # zooming out is allowed to go below readable …
    assert tools.get_by_role("button", name="Phóng to").get_attribute("title") == "Phóng to"
    fit = tools.get_by_role("button", name="Vừa khung")
    assert "chữ vẫn đọc được" in fit.get_attribute("title")
    fit.click()
    again = _labels(page)  # … and fit brings it back where labels are readable
    assert abs(again["scale"] - fitted) < 0.01 and again["min"] >= READABLE_PX


def test_the_wheel_scrolls_the_page_until_the_diagram_is_clicked(page: Any, live_server: LiveServer,
                                                                 login: Any) -> None:
    _case_page(page, live_server, login)
    diagram = page.locator("#diagram")
    diagram.scroll_into_view_if_needed()
    box = diagram.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before_y, before_scale = page.evaluate("scrollY"), _labels(page)["scale"]
    page.mouse.wheel(0, 240)
    page.wait_for_function(f"() => scrollY > {before_y}")
    assert _labels(page)["scale"] == before_scale  # the diagram did not zoom

    box = diagram.bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + box["height"] / 2)  # click: the diagram takes the wheel
    assert page.locator(".diagram-frame.diagram-active").count() == 1
    y = page.evaluate("scrollY")
    page.mouse.wheel(0, -240)  # wheel up over the focused diagram zooms in
    after = _labels(page)
    assert after["scale"] > before_scale
    assert page.evaluate("scrollY") == y

    page.keyboard.press("Tab")  # focus leaves the diagram: the wheel is the page's again
    assert page.locator(".diagram-frame.diagram-active").count() == 0
    box = diagram.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 240)
    page.wait_for_function(f"() => scrollY > {y}")
    assert _labels(page)["scale"] == after["scale"]
