"""Engine messages are codes with parameters, translated for the reader: the API answers the stable code, its
parameters and the message in Vietnamese (English when the client asks for it); pages show the message in
the page's language; the CLI prints Vietnamese. No engine error is raised with English words any more."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from engine.error_texts import TEXTS
from engine.errors import Invalid, NotFound
from tests.test_reports_export import _login

ROOT = Path(__file__).resolve().parents[1]
ERRORS = {"MotcuaError", "Invalid", "NotFound", "Conflict", "Forbidden", "RoutingError"}
VIETNAMESE = re.compile(r"[À-ỹđĐ]")
ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def _literal_text(node: ast.expr) -> str:
    """The words written in a message expression (the constant parts of strings and f-strings)."""
    return " ".join(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def english_messages() -> list[str]:
    found = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if not (isinstance(func, ast.Name) and func.id in ERRORS and node.exc.args):
                continue
            words = _literal_text(node.exc.args[0])
            if ENGLISH_WORD.search(words) and not VIETNAMESE.search(words):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {words[:80]}")
    return found


def _english_catalog() -> dict[str, str]:
    out: dict[str, str] = {}
    for po in (ROOT / "web" / "translations").glob("*/en/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            out.update({m.id: m.string for m in read_po(fh) if m.id and m.string})
    return out


def test_no_engine_error_is_raised_in_english() -> None:
    assert english_messages() == []


def test_every_code_has_one_vietnamese_template_and_an_english_translation() -> None:
    from web.error_texts import MESSAGES
    from web.labels import msgid

    assert {code: msgid(word) for code, word in MESSAGES.items()} == TEXTS  # the web's literals are the engine's
    english = _english_catalog()
    placeholders = re.compile(r"%\((\w+)\)s")
    for code, template in TEXTS.items():
        assert template in english, f"{code}: no English for {template!r}"
        assert sorted(placeholders.findall(english[template])) == sorted(placeholders.findall(template)), code


def test_a_coded_error_keeps_its_code_and_parameters() -> None:
    e = NotFound.of("case_not_found", code="000.31.31.H99-260301-0001")
    assert (e.status, e.text_code, e.params) == (404, "case_not_found", {"code": "000.31.31.H99-260301-0001"})
    assert e.message == "Không tìm thấy hồ sơ 000.31.31.H99-260301-0001"  # no request: Vietnamese (CLI, logs)
    assert Invalid("Dữ liệu chưa hợp lệ").text_code is None  # an uncoded message is shown as written


def test_api_answers_code_parameters_and_the_translated_message(api: Any) -> None:
    missing = api.get("/api/v1/cases/000.31.31.H99-991231-0001", user="xa_a1_clerk")
    body = missing.get_json()
    assert missing.status_code == 404 and body["error"] == "not_found"
    assert body["code"] == "case_not_found" and body["params"] == {"code": "000.31.31.H99-991231-0001"}
    assert body["message"] == "Không tìm thấy hồ sơ 000.31.31.H99-991231-0001"

    english = api.get("/api/v1/cases/000.31.31.H99-991231-0001", user="xa_a1_clerk",
                      headers={"Accept-Language": "en"}).get_json()
    assert english["code"] == "case_not_found" and english["message"] == "Case 000.31.31.H99-991231-0001 not found"

    bad = api.post("/api/v1/cases/000.31.31.H99-991231-0001/apology", user="xa_a1_clerk",
                   json={"reason": "x", "new_due_at": "ngày mai"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "datetime_iso"
    assert bad.get_json()["message"] == "new_due_at phải là ngày giờ theo ISO 8601"


def test_desk_page_says_the_missing_name_in_the_page_language(api: Any) -> None:
    _login(api, "xa_a1_clerk")
    page = api.client.get("/reception?procedure=ho_tro_mai_tang").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "procedure": "ho_tro_mai_tang", "action": "accept", "name": "",
            "docs": ["to_khai", "giay_chung_tu"]}
    # The message stands beside the name field (engine.dossier_checks: every problem next to its field).
    said = re.compile(r'class="(?:alert|field-error)[^"]*"[^>]*>(.*?)</', re.S)
    vietnamese = said.findall(api.client.post("/reception", data=form).get_data(as_text=True))
    assert any("họ và tên người nộp hồ sơ" in m for m in vietnamese), vietnamese
    assert not any("required" in m or "applicant" in m for m in vietnamese), vietnamese
    api.client.post("/lang/en", data={"csrf_token": token})
    english = said.findall(api.client.post("/reception", data=form).get_data(as_text=True))
    assert any("applicant&#39;s" in m for m in english), english
    assert not any("Chưa nhập" in m or "Nhập họ" in m for m in english), english
