"""Issue 9, item 1: a name is data. A designer deployed a process named with markup that ran script in a
head's browser and, through the PDF report, attached the instance's secret key. Now the name is shown
escaped on every page, and every PDF loads only data: URLs and the app's own asset files, with no
attachments — checked on the real report export with pypdf, on SQLite and PostgreSQL."""

from __future__ import annotations

import http.server
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.models import Unit
from engine.pdf import render_pdf
from tests.helpers import Browser, text

REPO = Path(__file__).resolve().parents[2]
SHIPPED = (REPO / "bpmn" / "ho_tro_mai_tang.bpmn").read_text(encoding="utf-8")
SECRET = "khoa-bi-mat-0123456789abcdef"
PNG = ("data:image/png;base64,"
       "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A real HTTP server on localhost recording every request: the PDF must never call out (SSRF)."""
    hits: list[str] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"GIF89a")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def _evil(secret_file: Path, port: int) -> str:
    return (f'<img src=x onerror=alert(1)><link rel="attachment" href="{secret_file.as_uri()}">'
            f'<img src="http://127.0.0.1:{port}/ssrf">')


def _secret_file(instance: Path) -> Path:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    path.write_text(SECRET)
    return path


def _pdf_facts(data: bytes) -> tuple[dict, str]:
    reader = PdfReader(io.BytesIO(data))
    return dict(reader.attachments), "\n".join(p.extract_text() for p in reader.pages)


def test_hostile_process_and_unit_names_are_escaped_and_reach_no_file(
        browser: Browser, api: Any, listener: tuple[int, list[str]]) -> None:
    port, hits = listener
    secret = _secret_file(browser.instance)
    evil = _evil(secret, port)
    xml = SHIPPED.replace('id="ho_tro_mai_tang"', 'id="thu_tuc_doc"').replace(
        'processRef="ho_tro_mai_tang"', 'processRef="thu_tuc_doc"')
    xml = re.sub(r'(<bpmn:process id="thu_tuc_doc") name="[^"]*"', lambda m: f"{m.group(1)} name={quoteattr(evil)}",
                 xml)
    deployed = api.post("/api/v1/processes", "designer", data=xml.encode(),
                        headers={"Content-Type": "application/xml"})
    assert deployed.status_code == 201, deployed.get_json()
    received = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "thu_tuc_doc", "applicant": {
        "name": "Lê Văn Cường", "id_number": "036090009999", "address": "xã An Phú"}})
    assert received.status_code == 201, received.get_json()
    code = received.get_json()["code"]
    with browser.app.extensions["motcua_db"].transaction() as s:  # an administrator names a unit the same way
        s.scalar(select(Unit).where(Unit.code == "XA_A1")).name = evil

    browser.login("tinh_leader")
    for group in ("procedure", "unit"):
        page = browser.get(f"/reports?group={group}")
        assert page.status_code == 200
        html = text(page)
        assert "<img src=x onerror" not in html and 'rel="attachment"' not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as the text it is

        pdf = browser.client.get(f"/reports/export.pdf?group={group}")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        attachments, words = _pdf_facts(pdf.data)
        assert attachments == {}
        assert SECRET.encode() not in pdf.data and SECRET not in words
        assert "onerror=alert(1)" in words  # the name is printed as text, not interpreted

    browser.login("xa_a1_clerk")
    for path in ("/inbox", f"/cases/{code}", "/thu-tuc"):
        html = text(browser.get(path))
        assert "<img src=x onerror" not in html, path
    slip = browser.client.get(f"/cases/{code}/slips/01.pdf")
    assert slip.status_code == 200  # the receipt (Mẫu 01) names the procedure and the unit
    attachments, _words = _pdf_facts(slip.data)
    assert attachments == {} and SECRET.encode() not in slip.data
    assert hits == []  # no page and no PDF fetched the listener


def test_render_pdf_loads_only_data_and_app_assets(tmp_path: Path, listener: tuple[int, list[str]]) -> None:
    port, hits = listener
    secret = _secret_file(tmp_path / "instance")
    static_file = REPO / "web" / "static" / "css" / "app.css"
    fonts = (REPO / "slips" / "fonts" / "fonts.css").as_uri()
    html = f"""<html><head><link rel="stylesheet" href="{fonts}">
      <link rel="attachment" href="{secret.as_uri()}"><link rel="attachment" href="{static_file.as_uri()}">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/css"></head>
      <body style="font-family: Tinos"><p>Giấy tiếp nhận hồ sơ</p>
      <img src="{secret.as_uri()}"><img src="file:///etc/passwd"><img src="http://127.0.0.1:{port}/img">
      <img src="https://127.0.0.1:{port}/tls"><iframe src="{secret.as_uri()}"></iframe>
      <a rel="attachment" href="{static_file.as_uri()}">tệp</a><a rel="attachment" href="{secret.as_uri()}">khoá</a>
      <img src="../../../../../../../{secret}">
      <img src="{PNG}" alt="ảnh nhúng"></body></html>"""
    data = render_pdf(html)
    attachments, words = _pdf_facts(data)
    assert attachments == {}
    assert SECRET.encode() not in data and b"root:x:0:0" not in data
    assert hits == []
    assert "Giấy tiếp nhận hồ sơ" in words
    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = [str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()]
    assert any("Tinos" in f for f in fonts), fonts  # the app's own font (slips/fonts) still loads
    assert len(page.images) == 1  # the data: image, and only it


def test_weasyprint_is_used_in_one_place_only() -> None:
    """Every PDF goes through engine.pdf.render_pdf: no other module may build one with its own fetcher."""
    users = sorted(str(p.relative_to(REPO)) for d in ("engine", "web", "tools", "bench")
                   for p in (REPO / d).rglob("*.py") if "weasyprint" in p.read_text(encoding="utf-8"))
    assert users == ["engine/pdf.py"]


def test_secret_key_is_not_served(browser: Browser) -> None:
    _secret_file(browser.instance)
    for path in ("/static/../instance/secret_key", "/static/..%2f..%2finstance%2fsecret_key", "/secret_key",
                 "/static/secret_key", "/instance/secret_key", "/static/%2e%2e/%2e%2e/instance/secret_key"):
        r = browser.client.get(path)
        assert r.status_code in (400, 404), path
        assert SECRET.encode() not in r.data, path
