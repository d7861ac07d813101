"""/tra-cuu: code + secret show the status, where the dossier is (unit and level, never a person), the
appointment and what to add; nothing personal. A wrong secret answers exactly like an unknown code; the code
alone answers nothing (page or JSON API); the secret travels in the POST body, never the URL; repeated wrong
secrets are cut off with a Vietnamese 429 naming the lookup, the form still filled in."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engine.models import Case
from tests.conftest import World, at
from tests.helpers import csrf_token

APPLICANT = {"name": "Phạm Văn Quý", "id_number": "036088123456", "address": "Xóm Chùa, xã An Phú",
             "phone": "0977111222", "email": "quy@example.vn"}


def _secret(world: World, code: str) -> str:
    with world.db.transaction() as s:
        return s.scalar(select(Case.lookup_secret).where(Case.code == code))


def _lookup(api: Any, code: str, secret: str) -> Any:
    page = api.client.get("/tra-cuu").get_data(as_text=True)
    return api.client.post("/tra-cuu", data={"csrf_token": csrf_token(page), "code": code, "secret": secret})


def _error_text(html: str) -> str:
    found = re.search(r'id="lookup-error">([^<]*)<', html)
    return found.group(1) if found else ""


def test_code_and_secret_show_progress_and_nothing_personal(world: World, api: Any) -> None:
    code = world.receive(procedure="ncc_mai_tang", applicant=APPLICANT, received_at=at("2025-03-03 09:00"))
    resp = _lookup(api, code, _secret(world, code))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Được tiếp nhận" in html
    assert re.search(r'id="lookup-unit">UBND xã An Phú \(Cấp xã\)<', html)
    assert re.search(r'id="lookup-due">\d{2}/\d{2}/\d{4} \d{2}:\d{2}<', html)
    for personal in APPLICANT.values():
        assert personal not in html, personal
    assert "Chuyên viên —" not in html and "xa_a1_specialist" not in html  # no officer either
    # The secret is not case-sensitive (it is read off paper).
    assert _lookup(api, code, _secret(world, code).lower()).status_code == 200


def test_progress_moves_to_the_district(world: World, api: Any) -> None:
    code = world.receive(procedure="ho_tro_mai_tang", received_at=at("2025-03-03 09:00"))
    world.complete_next(code, {"outcome": "approve"}, now=at("2025-03-03 10:00"))
    world.complete_next(code, {}, now=at("2025-03-03 11:00"))
    html = _lookup(api, code, _secret(world, code)).get_data(as_text=True)
    assert "Đang xử lý" in html
    assert re.search(r'id="lookup-unit">UBND huyện Hòa An \(Cấp huyện\)<', html)


def test_wrong_secret_answers_like_an_unknown_code(world: World, api: Any) -> None:
    code = world.receive(applicant=APPLICANT)
    wrong = _lookup(api, code, "ABCDEF" if _secret(world, code) != "ABCDEF" else "123456")
    unknown = _lookup(api, "000.31.31.H99-990101-9999", "ABCDEF")
    assert wrong.status_code == unknown.status_code == 404
    assert _error_text(wrong.get_data(as_text=True)) == _error_text(unknown.get_data(as_text=True)) != ""
    assert "Được tiếp nhận" not in wrong.get_data(as_text=True)


def test_the_code_alone_reveals_nothing(world: World, api: Any) -> None:
    code = world.receive(applicant=APPLICANT)
    assert api.post(f"/api/v1/public/cases/{code}", json={}).status_code == 422
    assert api.get(f"/api/v1/public/cases/{code}").status_code == 405
    body = api.post(f"/api/v1/public/cases/{code}", json={"secret": _secret(world, code)}).get_json()
    assert set(body) == {"code", "status", "status_code", "due_at"}
    # The page without the secret shows nothing of it.
    no_secret = _lookup(api, code, "")
    assert no_secret.status_code == 422 and "Được tiếp nhận" not in no_secret.get_data(as_text=True)


def test_a_secret_in_the_url_is_ignored_and_the_code_is_filled_in(world: World, api: Any) -> None:
    """QR codes and links carry the code only; a secret pasted into a URL is never checked."""
    code = world.receive(applicant=APPLICANT)
    html = api.client.get(f"/tra-cuu?code={code}&secret={_secret(world, code)}").get_data(as_text=True)
    assert f'value="{code}"' in html and "Được tiếp nhận" not in html
    assert f'value="{_secret(world, code)}"' not in html


def test_supplement_request_is_shown_with_what_to_add(world: World, api: Any) -> None:
    code = world.receive(procedure="ho_tro_mai_tang", received_at=at("2025-03-03 09:00"))
    world.complete_next(code, {"outcome": "supplement", "giay_to_can_bo_sung": "Giấy chứng tử (bản sao)\n"
                               "Tờ khai Mẫu số 04"}, now=at("2025-03-03 10:00"))
    html = _lookup(api, code, _secret(world, code)).get_data(as_text=True)
    assert "Yêu cầu bổ sung giấy tờ" in html and 'id="lookup-supplement"' in html
    assert "<li>Giấy chứng tử (bản sao)</li>" in html and "<li>Tờ khai Mẫu số 04</li>" in html


def test_too_many_wrong_secrets_get_a_clear_429(world: World, api: Any) -> None:
    code = world.receive()
    for _ in range(3):  # right secrets do not use up the allowance
        assert _lookup(api, code, _secret(world, code)).status_code == 200
    for _ in range(10):
        assert _lookup(api, code, "000000").status_code == 404
    blocked = _lookup(api, code, _secret(world, code))
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "Tra cứu hồ sơ tạm dừng" in html and "quá nhiều lần" in html
    assert f'value="{code}"' in html and f'value="{_secret(world, code)}"' in html  # what was typed stays
    # The empty form still opens: only attempts count.
    assert api.client.get("/tra-cuu").status_code == 200
