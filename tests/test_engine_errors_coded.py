"""Every error the engine raises says what went wrong by a text code (engine/error_texts.py), never by words
written where it is raised: a literal message reaches an English-speaking official or API client in Vietnamese
only. The scan below keeps it so; the API answers the coded errors in Vietnamese first and in English to a
client that asks for it, with the same `details` as before."""

from __future__ import annotations

import ast
import io
from pathlib import Path
from typing import Any

from engine.demo import create_demo
from tests.conftest import World
from tests.test_step_documents import _task, _upload
from tests.test_three_level_case_api import receive, user_for

ROOT = Path(__file__).resolve().parents[1]
BASE = "MotcuaError"
PENDING: dict[str, int] = {}  # file → literal messages still allowed there (none now)


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """MotcuaError and every class deriving from it, however deep, in the given modules."""
    names, grew = {BASE}, True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        (b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)) in names for b in node.bases):
                    names.add(node.name)
                    grew = True
    return names


def uncoded(sources: dict[str, str]) -> list[str]:
    """`file:line` of each error constructed directly with a message (`Invalid("…")`, `Conflict(f"…")`,
    `NotFound(NAME)`): only `Invalid.of("code", …)` carries a code the web can translate."""
    trees = {name: ast.parse(src, filename=name) for name, src in sources.items()}
    classes = _error_classes(list(trees.values()))
    found = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and (node.args or any(k.arg == "message" for k in node.keywords))):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if called in classes:
                found.append(f"{name}:{node.lineno}")
    return sorted(found, key=lambda s: (s.split(":")[0], int(s.split(":")[1])))


def _engine_sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted((ROOT / "engine").rglob("*.py"))
            if "migrations" not in p.parts}


def test_no_engine_error_is_raised_with_a_written_message() -> None:
    found = uncoded(_engine_sources())
    per_file: dict[str, list[str]] = {}
    for place in found:
        per_file.setdefault(place.split(":")[0], []).append(place)
    over = [p for f, places in per_file.items() if len(places) > PENDING.get(f, 0) for p in places]
    assert not over, ("errors raised with a written message (use Invalid.of with a code in engine/error_texts.py, "
                      "the same template in web/error_texts.py and its English in a catalog):\n" + "\n".join(over))


def test_the_scan_catches_each_form() -> None:
    """The scan would pass vacuously if it missed a form; each is named with its line, coded errors are not."""
    src = ("from engine import errors\n"
           "from engine.errors import Conflict, Invalid, MotcuaError, NotFound\n"
           "class Refused(MotcuaError, status=401):\n    pass\n"
           "class Later(Refused):\n    pass\n"
           "Invalid('chưa hợp lệ')\n"
           "NotFound(f'Không có {code}')\n"
           "Conflict('hồ sơ ' + code, details={})\n"
           "errors.Forbidden(TEXT)\n"
           "Later(message=text)\n"
           "Invalid.of('case_not_found', code=code)\n"
           "Refused.of('message_refused', reason='x')\n")
    engine_errors = (ROOT / "engine" / "errors.py").read_text(encoding="utf-8")
    assert uncoded({"engine/errors.py": engine_errors, "m.py": src}) == ["m.py:7", "m.py:8", "m.py:9", "m.py:10",
                                                                       "m.py:11"]


def _both(api: Any, method: str, path: str, **kw: Any) -> tuple[dict, dict]:
    """The answer to one request as a Vietnamese client gets it (no language said) and as an English one."""
    vietnamese = getattr(api, method)(path, **kw).get_json()
    english = getattr(api, method)(path, headers={"Accept-Language": "en"}, **kw).get_json()
    return vietnamese, english


def test_api_says_a_wrong_competent_unit_in_the_clients_language(world: World, api: Any) -> None:
    with world.db.transaction() as s:
        create_demo(s, levels=2)
    body = {"procedure": "ncc_mai_tang_2025", "applicant": {"name": "Trần Thị Bình"}, "competent_unit": "TINH"}
    vi, en = _both(api, "post", "/api/v1/cases", user="xa_hoa_an_clerk", json=body)
    assert vi["error"] == en["error"] == "invalid" and vi["code"] == en["code"] == "competent_unit_wrong_level"
    assert vi["message"] == "Đơn vị có thẩm quyền 'TINH' không phải đơn vị cấp 'commune' trong tỉnh của UBND xã Hòa An"
    assert en["message"] == "The competent unit 'TINH' is not a level 'commune' unit in the province of UBND xã Hòa An"
    assert vi["details"] == en["details"] and vi["details"]["competent_unit"] == "TINH"
    assert "XA_BINH_SON" in vi["details"]["allowed"]  # the field names clients read are as they were


def test_api_says_a_refused_upload_in_the_clients_language(api: Any) -> None:
    code = receive(api)["code"]
    task = _task(api, code)
    vi = _upload(api, user_for(task), code, task["id"], body=b"just text", name="ghi-chu.txt")
    assert vi.status_code == 422
    en = api.post(f"/api/v1/cases/{code}/documents", user_for(task), content_type="multipart/form-data",
                  headers={"Accept-Language": "en"},
                  data={"file": (io.BytesIO(b"just text"), "ghi-chu.txt"), "step": str(task["id"])})
    assert en.status_code == 422
    vi_body, en_body = vi.get_json(), en.get_json()
    assert vi_body["code"] == en_body["code"] == "upload_type"
    assert vi_body["message"] == "ghi-chu.txt: chỉ nhận tệp PDF, JPEG hoặc PNG"
    assert en_body["message"] == "ghi-chu.txt: only PDF, JPEG or PNG files are accepted"
    assert vi_body["details"] == en_body["details"] == {"file": "ghi-chu.txt"}
