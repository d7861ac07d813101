"""Bad input is a 4xx naming the field, never a 500, and nothing is stored — on SQLite and on PostgreSQL alike
(issue 9, item 2). PostgreSQL used to answer 500 to these; SQLite stored them (a NaN that broke the case's
JSON, a 10 MB name)."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from engine import cases, inputs
from engine.errors import Invalid
from engine.models import Case, Event, Rating
from tests.conftest import World
from tests.helpers import csrf_token, login

OK = {"procedure": "ho_tro_mai_tang", "applicant": {"name": "Lê Thị Thu", "phone": "0912345678"}}
DEEP = "[" * 100_000 + "]" * 100_000
BIG = "99999999999999999999999"
HO_TRO = Path(__file__).resolve().parents[2] / "bpmn" / "ho_tro_mai_tang.bpmn"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _with(applicant: dict | None = None, **extra: Any) -> dict:
    return {**OK, "applicant": {**OK["applicant"], **(applicant or {})}, **extra}


def _raw(text: str) -> dict:
    return {"data": text, "content_type": "application/json"}


# (name, method, path, user, request keywords, fields the answer must name)
API_PROBES = [
    ("name 201 characters", "POST", "/api/v1/cases", "xa_a1_clerk", {"json": _with({"name": "A" * 201})},
     ["applicant.name"]),
    ("every bad field at once", "POST", "/api/v1/cases", "xa_a1_clerk",
     {"json": _with({"name": "An\x00", "phone": "0" * 40, "address": "x" * 501, "email": "\x1b[31m"})},
     ["applicant.name", "applicant.phone", "applicant.address", "applicant.email"]),
    ("lone surrogate", "POST", "/api/v1/cases", "xa_a1_clerk",
     _raw('{"procedure": "ho_tro_mai_tang", "applicant": {"name": "An\\ud800"}}'), ["applicant.name"]),
    ("NaN in data", "POST", "/api/v1/cases", "xa_a1_clerk",
     _raw('{"procedure": "ho_tro_mai_tang", "applicant": {"name": "An"}, "data": {"so_tien": NaN}}'), ["body"]),
    ("Infinity in data", "POST", "/api/v1/cases", "xa_a1_clerk",
     _raw('{"procedure": "ho_tro_mai_tang", "applicant": {"name": "An"}, "data": {"x": -Infinity}}'), ["body"]),
    ("JSON 100,000 deep", "POST", "/api/v1/cases", "xa_a1_clerk", _raw(DEEP), ["body"]),
    ("integer beyond 64 bits in data", "POST", "/api/v1/cases", "xa_a1_clerk",
     {"json": _with(data={"so_tien": 2**70})}, ["data.so_tien"]),
    ("NUL in a data key and value", "POST", "/api/v1/cases", "xa_a1_clerk",
     {"json": _with(data={"ghi_chu": "a\x00b", "k\x00": 1})}, ["data.ghi_chu", "data.k\x00"]),
    ("year 0001", "POST", "/api/v1/cases", "xa_a1_clerk", {"json": _with(received_at="0001-01-01T00:00:00")},
     ["received_at"]),
    ("procedure not text", "POST", "/api/v1/cases", "xa_a1_clerk", {"json": _with(procedure={"$ne": 1})},
     ["procedure"]),
    ("cursor beyond 64 bits", "GET", f"/api/v1/tasks?after={BIG}", "xa_a1_specialist", {}, ["after"]),
    ("cursor id beyond 64 bits", "GET", f"/api/v1/tasks?after=2026-01-01T00:00:00%2B00:00|{BIG}",
     "xa_a1_specialist", {}, ["after"]),
    ("cursor year 0001", "GET", "/api/v1/tasks?after=0001-01-01T00:00:00%2B00:00|1", "xa_a1_specialist", {},
     ["after"]),
    ("naive cursor", "GET", "/api/v1/tasks?after=2026-01-01T00:00:00|1", "xa_a1_specialist", {}, ["after"]),
    ("limit beyond 64 bits", "GET", f"/api/v1/tasks?limit={BIG}", "xa_a1_specialist", {}, ["limit"]),
    ("NUL in a query parameter", "GET", "/api/v1/tasks?procedure=%00", "xa_a1_specialist", {}, ["procedure"]),
    ("notifications before beyond 64 bits", "GET", f"/api/v1/notifications?before={BIG}", "xa_a1_specialist",
     {}, ["before"]),
    ("NUL in a case code", "GET", "/api/v1/cases/A%00B", "xa_a1_clerk", {}, ["code"]),
    ("NUL in a public case code", "POST", "/api/v1/public/cases/A%00B", None, {"json": {"secret": "ABC123"}},
     ["code"]),
    ("public case code longer than its column", "POST", "/api/v1/public/cases/" + "A" * 65, None,
     {"json": {"secret": "ABC123"}}, ["code"]),
    ("NUL in a public secret", "POST", "/api/v1/public/cases/X-1", None, {"json": {"secret": "AB\x00"}},
     ["secret"]),
    ("report from year 0001", "GET", "/api/v1/reports/summary?from=0001-01-01", "xa_a1_head", {}, ["from"]),
    ("report page beyond 64 bits", "GET", f"/api/v1/reports/cases?figure=received_new&page={BIG}", "xa_a1_head",
     {}, ["page"]),
    ("designer diff version beyond 64 bits", "GET", f"/api/v1/processes/ncc_mai_tang/diff?from={BIG}&to=1",
     "designer", {}, ["from"]),
    # The body's shape is checked before the URL's day (web.contract): one probe for each.
    ("calendar note 301 characters", "PUT", "/api/v1/calendar/overrides/2026-03-09", "admin",
     {"json": {"working": False, "note": "n" * 301}}, ["note"]),
    ("calendar day in year 0001", "PUT", "/api/v1/calendar/overrides/0001-01-01", "admin",
     {"json": {"working": False, "note": "nghỉ bù"}}, ["day"]),
    ("calendar note with NUL", "PUT", "/api/v1/calendar/overrides/2026-03-09", "admin",
     {"json": {"working": False, "note": "bão\x00"}}, ["note"]),
    ("deploy with NUL in a form", "POST", "/api/v1/processes?procedure=ho_tro_mai_tang", "designer",
     lambda: {"data": {"file": (io.BytesIO(HO_TRO.read_bytes()), "ho_tro_mai_tang.bpmn"),
                       "forms": '{"bo_sung": {"components": [], "title": "\\u0000"}}'},
              "content_type": "multipart/form-data"}, ["forms.bo_sung.title"]),
]


def _count(world: World) -> int:
    with world.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize("name,method,path,user,kw,fields", API_PROBES, ids=[p[0] for p in API_PROBES])
def test_api_probe_is_a_422_naming_exactly_the_fields_and_stores_nothing(api: Any, world: World, name: str,
                                                                         method: str, path: str, user: str | None,
                                                                         kw: Any, fields: list[str]) -> None:
    """The same answer on both backends: 422, and `details` naming the bad fields and nothing else (a probe
    refused for another reason — a wrong method, an unrelated bad parameter — would prove nothing)."""
    before = _count(world)
    r = api.call(method, path, user, **(kw() if callable(kw) else kw))
    assert r.status_code == 422, (name, r.status_code, r.get_data(as_text=True)[:500])
    body = r.get_json()
    assert body["message"], name
    assert sorted(body.get("details") or {}) == sorted(fields), (name, body)
    assert _count(world) == before, name


def test_designer_draft_with_nul_in_a_form_is_refused(world: World) -> None:
    from engine import designer

    with pytest.raises(Invalid) as e, world.db.transaction() as s:
        designer.save_draft(s, world.user(s, "designer"), "moi", "<x/>", {"f": {"components": [], "t": "a\x00"}})
    assert "forms.f.t" in e.value.details


def test_complete_task_with_hostile_data_is_422_and_the_step_stays_open(api: Any, world: World) -> None:
    code = world.receive(procedure="ho_tro_mai_tang")
    item_id, unit, role = world.open_item(code)
    user = f"{unit.lower()}_{role}"
    for data, field in (({"comment": "ok\x00"}, "data.comment"), ({"so_tien": 2**64}, "data.so_tien"),
                        ({"x": {"y": "\udfff"}}, "data.x.y")):
        r = api.post(f"/api/v1/tasks/{item_id}/complete", user, json={"data": {"outcome": "approve", **data}})
        assert r.status_code == 422, r.get_json()
        assert field in r.get_json()["details"]
    assert world.open_item(code)[0] == item_id


def test_apology_with_nul_in_the_reason_is_422_and_nothing_recorded(api: Any, world: World) -> None:
    code = world.receive(procedure="ho_tro_mai_tang")
    for body, fields in (({"reason": "Chậm\x00", "new_due_at": "2026-12-30T17:00:00"}, ["reason"]),
                         ({"reason": "Chậm", "new_due_at": "0001-01-01T00:00:00"}, ["new_due_at"])):
        r = api.post(f"/api/v1/cases/{code}/apology", "xa_a1_head", json=body)
        assert r.status_code == 422, r.get_json()
        assert all(f in r.get_json()["details"] for f in fields), r.get_json()
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "apology")) == 0


def test_api_405_and_413_are_json(api: Any) -> None:
    r = api.call("PUT", "/api/v1/cases", "xa_a1_clerk", json={})
    assert r.status_code == 405 and r.get_json()["error"] == "method_not_allowed"
    api.app.config["MAX_CONTENT_LENGTH"] = 10_000
    r = api.post("/api/v1/cases", "xa_a1_clerk", json=_with({"address": "x" * 20_000}))
    assert r.status_code == 413 and r.get_json()["message"]


# --- pages ------------------------------------------------------------------------------------------------


def _csrf(client: Any, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


@pytest.mark.parametrize("path,field", [("/thu-tuc?q=%00", "q"), ("/tra-cuu?code=%00", "code"),
                                        ("/tra-cuu?code=%00&secret=ABC123", "code"),
                                        ("/thu-tuc?field=%1b", "field"), ("/danh-gia?code=%00&secret=1", "code")])
def test_public_pages_answer_422_to_bad_parameters(api: Any, path: str, field: str) -> None:
    r = api.client.get(path)
    assert r.status_code == 422, (path, r.status_code)
    assert field in r.get_data(as_text=True), path


@pytest.mark.parametrize("path", ["/tra-cuu", "/danh-gia", "/tra-cuu/bo-sung"])
@pytest.mark.parametrize("form,field", [({"code": "A\x00B", "secret": "ABC123"}, "code"),
                                        ({"code": "X-1", "secret": "AB\x1bC"}, "secret")])
def test_public_forms_answer_422_to_hostile_codes_and_secrets(api: Any, path: str, form: dict, field: str) -> None:
    """The anonymous forms that check a secret: a NUL or an escape character is named, never queried."""
    r = api.client.post(path, data={"csrf_token": _csrf(api.client, "/tra-cuu"), **form})
    assert r.status_code == 422, (path, r.status_code)
    assert field in r.get_data(as_text=True), path


def test_login_with_nul_in_username_is_4xx(api: Any) -> None:
    token = _csrf(api.client, "/login")
    r = api.client.post("/login", data={"csrf_token": token, "username": "a\x00", "password": "x"})
    assert r.status_code == 422 and "username" in r.get_data(as_text=True)
    r = api.client.post("/login", data={"csrf_token": token, "username": "a" * 101, "password": "x"})
    assert r.status_code == 422 and "username" in r.get_data(as_text=True)


@pytest.mark.parametrize("changes,field", [({"phone": "0" * 40}, "phone"), ({"name": "N" * 201}, "name"),
                                           ({"name": "An\x00"}, "name"), ({"request": "x\x07"}, "request")])
def test_online_submission_with_bad_fields_is_422_and_nothing_stored(api: Any, world: World, changes: dict,
                                                                     field: str) -> None:
    path = "/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen"
    form = {"unit": "XA_A2", "name": "Đỗ Thị Mai", "phone": "0905123456", "request": "Đề nghị hỗ trợ",
            "csrf_token": _csrf(api.client, path), **changes, "doc_to_khai": (io.BytesIO(PDF), "to-khai.pdf"),
            "doc_giay_chung_tu": (io.BytesIO(PDF), "giay-chung-tu.pdf")}
    r = api.client.post(path, data=form, content_type="multipart/form-data")
    assert r.status_code == 422, r.status_code
    assert field in r.get_data(as_text=True)
    assert _count(world) == 0


def test_desk_reception_with_a_201_character_name_is_422(api: Any, world: World) -> None:
    login(api.client, "xa_a1_clerk")
    token = _csrf(api.client, "/reception?procedure=ho_tro_mai_tang")
    r = api.client.post("/reception", data={"csrf_token": token, "procedure": "ho_tro_mai_tang", "name": "N" * 201,
                                            "channel": "desk", "docs": ["to_khai", "giay_chung_tu"],
                                            "action": "accept"})
    assert r.status_code == 422 and "applicant.name" in r.get_data(as_text=True)
    assert _count(world) == 0
    # The page after a refused write still knows who is logged in (the session was rolled back, not reused).
    assert "xa_a1_clerk" in api.client.get("/reception").get_data(as_text=True) or \
        api.client.get("/reception").status_code == 200


def test_rating_comment_with_control_characters_is_refused(api: Any, world: World) -> None:
    from engine import public

    code = world.receive(procedure="ho_tro_mai_tang")
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        case.status_code, secret = 10, case.lookup_secret
    with pytest.raises(Invalid) as e, world.db.transaction() as s:
        public.rate(s, code, secret, {k: 2 for k, _ in public.CRITERIA}, "tốt\x00")
    assert "comment" in e.value.details
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Rating)) == 0


# --- the boundary itself, fed hostile strings ----------------------------------------------------------------

HOSTILE = st.one_of(
    st.text(st.characters(blacklist_categories=()), max_size=30),  # includes lone surrogates and controls
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff", "e\u0301", "\u202eevil", "N" * 201, "\t", "'; --",
                     "\ufeff", "🙂" * 100]),
)


@given(name=HOSTILE, note=HOSTILE)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_strings_are_refused_or_stored_exactly_as_normalised(world: World, name: str, note: str) -> None:
    """Either a 422 naming the field, or the text comes back from the database NFC-normalised and unchanged."""
    try:
        with world.db.transaction() as s:
            case = cases.receive(s, world.user(s, "xa_a1_clerk"), "ho_tro_mai_tang", {"name": name},
                                 {"ghi_chu": note})
            code = case.code
    except Invalid as e:
        assert set(e.details) <= {"applicant.name", "data.ghi_chu"} and e.details, e.details
        for field, value in (("applicant.name", name), ("data.ghi_chu", note)):
            if field in e.details:
                assert inputs.text_problem(value, multiline=field == "data.ghi_chu") or \
                    len(unicodedata.normalize("NFC", value).strip()) > 200 or not value.strip(), (field, value)
        return
    with world.db.transaction() as s:
        stored = s.scalar(select(Case).where(Case.code == code))
        assert stored.applicant_name == unicodedata.normalize("NFC", name).strip()
        assert stored.data["ghi_chu"] == unicodedata.normalize("NFC", note)
        assert s.scalar(select(Event).where(Event.case_id == stored.id, Event.kind == "received")) is not None


def test_error_page_after_a_failed_statement_renders_without_reusing_the_aborted_transaction(api: Any) -> None:
    """On PostgreSQL a failed statement aborts the transaction; the error page (its header reads the bell's
    notifications) must roll back first, or the 422 becomes a 500."""
    from sqlalchemy import text

    from web.pages import db_session

    def broken() -> str:
        try:
            db_session().execute(text("SELECT * FROM no_such_table"))
        except Exception:  # noqa: BLE001 — what a view that caught a database error would do
            pass
        raise Invalid("Dữ liệu chưa hợp lệ: x", details={"x": "bad"})

    api.app.add_url_rule("/_test/broken", "broken", broken)
    login(api.client, "xa_a1_clerk")
    r = api.client.get("/_test/broken")
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert 'id="bell"' in r.get_data(as_text=True)


def test_public_lookup_refuses_an_over_long_code(api: Any) -> None:
    """The lookup is a POST (the secret never sits in a URL); a code longer than its column is named, not queried."""
    page = api.client.get("/tra-cuu").get_data(as_text=True)
    r = api.client.post("/tra-cuu", data={"csrf_token": csrf_token(page), "code": "A" * 65, "secret": "ABC123"})
    assert 400 <= r.status_code < 500, r.status_code
    assert "code" in r.get_data(as_text=True) or "Mã hồ sơ" in r.get_data(as_text=True)
