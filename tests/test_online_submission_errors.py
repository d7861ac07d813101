"""A refused dossier says everything that is wrong at once, beside each field, in Vietnamese (English from the
catalog), and loses nothing: every value typed comes back in the form, and the scans already attached are
held and used when the form is sent again, so the applicant does not attach them twice. The same holds at the
desk; the JSON API answers 422 naming every field. The rate limit on online submission speaks of submitting
and keeps what was typed."""

from __future__ import annotations

import html
import io
import os
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import dossier_checks, pending_uploads
from engine.config import load_settings
from engine.models import Case, Document
from tests.conftest import World
from web import create_app

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OTHER_PDF = b"%PDF-1.4\n% giay chung tu\n%%EOF\n"
SUBMIT = "/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen"
BAD = {"unit": "XA_A2", "name": "Đỗ Minh Đức", "id_number": "12ab", "address": "Xóm Bắc, xã An Lạc",
       "phone": "không có", "email": "duc@", "request": "Đề nghị hỗ trợ chi phí mai táng cho bố"}
FIXED = {"id_number": "036090001234", "phone": "+84 912 345 678", "email": "duc@example.vn"}


def _csrf(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def _text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def _token(text: str) -> str:
    return re.search(r'name="pending" value="([^"]*)"', text).group(1)


def _errors(text: str) -> dict[str, str]:
    """What the page shows beside each field: data-field → message."""
    return {m.group(1): html.unescape(m.group(2)) for m in
            re.finditer(r'<p class="field-error"[^>]*data-field="([^"]+)"[^>]*>([^<]*)</p>', text)}


def _post(client: Any, fields: dict, files: dict[str, tuple[str, bytes]], path: str = SUBMIT,
          page: str = SUBMIT) -> Any:
    data: dict[str, Any] = {**fields, "csrf_token": _csrf(_text(client.get(page)))}
    for key, (name, content) in files.items():
        data[key] = (io.BytesIO(content), name)
    return client.post(path, data=data, content_type="multipart/form-data")


def _count(world: World) -> int:
    with world.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_every_problem_is_shown_beside_its_field_and_everything_typed_comes_back(world: World, api: Any) -> None:
    resp = _post(api.client, BAD, {"doc_to_khai": ("tờ khai.pdf", PDF)})
    text = _text(resp)
    assert resp.status_code == 422
    assert _errors(text) == {"id_number": dossier_checks.ID_NUMBER, "phone": dossier_checks.PHONE,
                             "email": dossier_checks.EMAIL, "documents.giay_chung_tu": dossier_checks.DOCUMENT_MISSING}
    assert "có 4 mục cần sửa" in text
    # The list at the top links each problem to its field.
    for anchor in ("#ap-id_number", "#ap-phone", "#ap-email", "#doc-giay_chung_tu"):
        assert f'href="{anchor}"' in text
    for field in ("name", "id_number", "address", "phone", "email"):
        assert f'value="{html.escape(BAD[field], quote=True)}"' in text, field
    assert f">{BAD['request']}</textarea>" in text and 'value="XA_A2" selected' in text
    # The scan attached is held: named beside its document, no need to attach it again.
    assert re.search(r'id="held-to_khai">[^<]*<strong>tờ khai\.pdf</strong>', text)
    assert "hết thời gian lưu tạm" not in text
    assert _count(world) == 0


def test_the_resubmission_uses_the_scans_held_without_attaching_them_again(world: World, api: Any) -> None:
    first = _text(_post(api.client, BAD, {"doc_to_khai": ("to-khai.pdf", PDF)}))
    token = _token(first)
    # Only the missing document is attached now; the tờ khai comes from the hold.
    resp = _post(api.client, {**BAD, **FIXED, "pending": token}, {"doc_giay_chung_tu": ("chung-tu.pdf", OTHER_PDF)})
    assert resp.status_code == 201, _errors(_text(resp))
    code = re.search(r'id="case-code">([^<]+)<', _text(resp)).group(1)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert (case.applicant_id_number, case.applicant_phone, case.applicant_email) == \
            ("036090001234", "0912345678", "duc@example.vn")
        docs = {d.doc_code: d for d in s.scalars(select(Document).where(Document.case_id == case.id))}
        assert {c: d.filename for c, d in docs.items()} == {"to_khai": "to-khai.pdf", "giay_chung_tu": "chung-tu.pdf"}
    download = api.client  # the clerk of XA_A2 reads the held scan back, byte for byte
    token_page = _csrf(_text(download.get("/login")))
    download.post("/login", data={"csrf_token": token_page, "username": "xa_a2_clerk", "password": "motcua2026"})
    assert download.get(f"/cases/{code}/documents/{docs['to_khai'].id}?download=1").data == PDF
    # Once stored, the hold is gone: the same token holds nothing for the next form.
    again = _text(_post(api.client, {**BAD, "pending": token}, {}))
    assert "held-to_khai" not in again and "documents.to_khai" in _errors(again)


def test_a_new_scan_replaces_the_one_held_and_a_bad_file_is_named_beside_its_document(api: Any) -> None:
    first = _text(_post(api.client, BAD, {"doc_to_khai": ("cu.pdf", PDF)}))
    again = _text(_post(api.client, {**BAD, "pending": _token(first)},
                        {"doc_to_khai": ("moi.pdf", PDF), "doc_giay_chung_tu": ("virus.exe", b"MZ\x90\x00 x")}))
    assert re.search(r'id="held-to_khai">[^<]*<strong>moi\.pdf</strong>', again) and "cu.pdf" not in again
    assert _errors(again)["documents.giay_chung_tu"] == pending_uploads.NOT_A_SCAN


def test_scans_held_for_one_form_are_not_offered_to_another(api: Any) -> None:
    first = _text(_post(api.client, BAD, {"doc_to_khai": ("to-khai.pdf", PDF)}))
    other = "/thu-tuc/ncc_mai_tang/nop-truc-tuyen"  # another online procedure's form ignores the token
    page = _text(_post(api.client, {**BAD, "pending": _token(first)}, {}, path=other, page=other))
    assert "to-khai.pdf" not in page and _token(page) != _token(first)
    garbage = _text(_post(api.client, {**BAD, "pending": "../../etc"}, {}))
    assert "to-khai.pdf" not in garbage and "documents.to_khai" in _errors(garbage)


def test_an_expired_hold_asks_for_the_scans_again(api: Any) -> None:
    first = _text(_post(api.client, BAD, {"doc_to_khai": ("to-khai.pdf", PDF)}))
    token = _token(first)
    folder = api.app.config["MOTCUA"].documents_path / "pending" / token
    old = time.time() - pending_uploads.HOLD_HOURS * 3600 - 60
    os.utime(folder / "meta.json", (old, old))
    again = _text(_post(api.client, {**BAD, "pending": token}, {}))
    assert "hết thời gian lưu tạm" in again and "documents.to_khai" in _errors(again)
    assert not folder.exists()  # swept: the scans carried personal data


def test_the_errors_read_in_english_after_switching_language(api: Any) -> None:
    token = _csrf(_text(api.client.get(SUBMIT)))
    api.client.post("/lang/en", data={"csrf_token": token, "next": SUBMIT})
    errors = _errors(_text(_post(api.client, BAD, {})))
    assert errors["id_number"] == "The personal identification number (citizen ID card) must have exactly 12 digits"
    assert errors["email"] == "Not a valid e-mail address (for example: name@example.vn)"
    assert errors["documents.to_khai"] == "This required document is missing"


def test_the_api_answers_422_naming_every_field(world: World, api: Any) -> None:
    body = {"procedure": "ho_tro_mai_tang", "documents": ["to_khai"],
            "applicant": {"name": "Đỗ Minh Đức", "id_number": "12ab", "phone": "không có", "email": "duc@"}}
    resp = api.post("/api/v1/cases", "xa_a1_clerk", json=body)
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid"
    assert resp.get_json()["details"] == {
        "applicant.id_number": dossier_checks.ID_NUMBER, "applicant.phone": dossier_checks.PHONE,
        "applicant.email": dossier_checks.EMAIL, "documents.giay_chung_tu": dossier_checks.DOCUMENT_MISSING}
    assert _count(world) == 0
    good = {**body, "documents": ["to_khai", "giay_chung_tu"],
            "applicant": {"name": "Đỗ Minh Đức", **FIXED}}
    created = api.post("/api/v1/cases", "xa_a1_clerk", json=good)
    assert created.status_code == 201, created.get_json()
    case = api.get(f"/api/v1/cases/{created.get_json()['code']}", "xa_a1_clerk").get_json()
    assert case["applicant"]["phone"] == "0912345678"


def test_the_desk_shows_every_problem_and_keeps_the_scans_for_the_corrected_form(world: World, api: Any) -> None:
    client = api.client
    client.post("/login", data={"csrf_token": _csrf(_text(client.get("/login"))), "username": "xa_a1_clerk",
                                "password": "motcua2026"})
    page = "/reception?procedure=ho_tro_mai_tang"
    typed = {"procedure": "ho_tro_mai_tang", "name": "Đỗ Minh Đức", "id_number": "12ab", "phone": "không có",
             "email": "duc@", "channel": "desk", "action": "accept", "docs": ["to_khai"]}
    first = _post(client, typed, {"file_to_khai": ("tờ khai.pdf", PDF)}, path="/reception", page=page)
    text = _text(first)
    assert first.status_code == 422
    assert _errors(text) == {"applicant.id_number": dossier_checks.ID_NUMBER, "applicant.phone": dossier_checks.PHONE,
                             "applicant.email": dossier_checks.EMAIL,
                             "documents.giay_chung_tu": dossier_checks.DOCUMENT_MISSING}
    assert 'value="12ab"' in text and 'value="không có"' in text and "tờ khai.pdf" in text
    assert _count(world) == 0
    fixed = {**typed, **FIXED, "docs": ["to_khai", "giay_chung_tu"], "pending": _token(text)}
    done = _post(client, fixed, {}, path="/reception", page=page)
    assert done.status_code == 302, _errors(_text(done))
    with world.db.transaction() as s:
        case = s.scalar(select(Case))
        assert [d.filename for d in s.scalars(select(Document).where(Document.case_id == case.id))] == ["tờ khai.pdf"]


def test_the_rate_limit_speaks_of_submitting_and_keeps_what_was_typed(world: World, tmp_path: Path) -> None:
    settings = load_settings(database_url=world.db.url, instance_path=tmp_path / "instance",
                             online_submit_limit="1/minute")
    client = create_app(settings, database=world.db).test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    held = _text(_post(client, BAD, {"doc_to_khai": ("lan-hai.pdf", PDF)}))  # refused: uses up nothing
    good = _post(client, {**BAD, **FIXED}, {"doc_to_khai": ("tk.pdf", PDF), "doc_giay_chung_tu": ("ct.pdf", PDF)})
    assert good.status_code == 201
    stopped = _post(client, {**BAD, **FIXED, "name": "Lê Văn Tư", "pending": _token(held)}, {})
    text = _text(stopped)
    assert stopped.status_code == 429
    said = html.unescape(re.search(r'id="form-errors"><p>([^<]*)</p>', text).group(1))
    assert said.startswith("Nộp hồ sơ trực tuyến tạm dừng") and "tra cứu" not in said.lower()
    assert 'value="Lê Văn Tư"' in text and 'value="036090001234"' in text
    assert f">{BAD['request']}</textarea>" in text and "lan-hai.pdf" in text  # typed and held, still there
