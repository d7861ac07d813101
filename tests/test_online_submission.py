"""Online submission (dịch vụ công trực tuyến): the citizen picks a procedure and a commune, fills the form and
uploads documents → a status-1 dossier at that commune's desk, with its code and lookup secret; the desk then
accepts it (clock starts), asks for a supplement (the citizen adds files, it comes back) or refuses it."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from engine import public, reports
from engine.errors import Conflict, NotFound
from engine.models import Case, Document, Event, Notification, WorkItem
from tests.conftest import World, at
from tests.helpers import csrf_token as _csrf

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FORM = {"unit": "XA_A2", "name": "Đỗ Thị Mai", "id_number": "036195000111", "address": "Thôn Hạ, xã An Lạc",
        "phone": "0905123456", "email": "mai@example.vn", "request": "Đề nghị hỗ trợ chi phí mai táng cho mẹ"}
# The procedure's required documents (processes/ho_tro_mai_tang.toml): online dossiers are checked like at the desk.
REQUIRED_SCANS = {"doc_to_khai": ("to-khai.pdf", PDF), "doc_giay_chung_tu": ("giay-chung-tu.pdf", PDF)}


def _submit(api: Any, files: dict | None = None, **changes: str) -> Any:
    page = api.client.get("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen")
    assert page.status_code == 200
    data: dict[str, Any] = {**FORM, **changes, "csrf_token": _csrf(page.get_data(as_text=True))}
    for key, (name, content) in (files if files is not None else REQUIRED_SCANS).items():
        data[key] = (io.BytesIO(content), name)
    return api.client.post("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen", data=data, content_type="multipart/form-data")


def _track(api: Any, code: str, secret: str) -> Any:
    """The lookup as the citizen does it: the secret in the POST body, never in the URL."""
    token = _csrf(api.client.get(f"/tra-cuu?code={code}").get_data(as_text=True))
    return api.client.post("/tra-cuu", data={"csrf_token": token, "code": code, "secret": secret})


def _case(world: World, code: str) -> Case:
    with world.db.transaction() as s:
        return s.scalar(select(Case).where(Case.code == code))


def test_catalog_lists_procedures_with_what_to_bring(api: Any) -> None:
    html = api.client.get("/thu-tuc").get_data(as_text=True)
    assert "Bảo trợ xã hội" in html and "Hỗ trợ chi phí mai táng" in html and "Nộp trực tuyến" in html
    detail = api.client.get("/thu-tuc/ho_tro_mai_tang").get_data(as_text=True)
    assert "Giấy chứng tử" in detail and "5,5 ngày làm việc" in detail and "Bộ phận Một cửa" in detail
    assert api.client.get("/thu-tuc?field=Người có công").get_data(as_text=True).count("ncc_mai_tang") >= 1
    assert api.client.get("/thu-tuc/khong_co").status_code == 404


def test_submission_arrives_at_the_chosen_commune_as_status_1(world: World, api: Any) -> None:
    resp = _submit(api)
    assert resp.status_code == 201, resp.get_data(as_text=True)[:2000]
    html = resp.get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', html).group(1)
    secret = re.search(r'id="case-secret">([^<]+)<', html).group(1)
    assert code.startswith("000.32.31.H99-")  # XA_A2's agency code
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert (case.status_code, case.channel, case.receiving_unit.code, case.lookup_secret) == (1, "online", "XA_A2",
                                                                                              secret)
        assert case.state is None and case.due_at is None  # the clock starts at acceptance
        assert [e.kind for e in s.scalars(select(Event).where(Event.case_id == case.id))] == ["submitted_online"]
        doc = s.scalar(select(Document).where(Document.case_id == case.id))
        assert doc.doc_code == "to_khai" and doc.content_type == "application/pdf"
        notice = s.scalar(select(Notification).where(Notification.case_id == case.id, Notification.user_id.is_(None)))
        assert notice.email == "mai@example.vn" and code in notice.message and secret in notice.message
    # The citizen tracks it straight away.
    track = _track(api, code, secret)
    assert "Mới đăng ký" in track.get_data(as_text=True)
    # The link on the confirmation page carries the code only.
    link = re.search(r'id="track-link" href="[^"]*"|href="([^"]+)" id="track-link"', html).group(0)
    assert code in link and secret not in link


@pytest.mark.parametrize("changes,files,field", [
    ({"unit": ""}, None, "Bộ phận Một cửa"),
    ({"unit": "HUYEN_A"}, None, "xã"),  # only communes' desks take online dossiers
    ({"name": ""}, None, "người nộp"),
    ({}, {}, "giấy tờ"),
    ({}, {"doc_to_khai": ("virus.exe", b"MZ\x90\x00 not a scan")}, "PDF"),
])
def test_bad_submissions_say_why_and_create_nothing(world: World, api: Any, changes: dict, files: Any,
                                                    field: str) -> None:
    resp = _submit(api, files=files, **changes)
    assert resp.status_code == 422
    assert field.lower() in resp.get_data(as_text=True).lower()
    with world.db.transaction() as s:
        assert s.scalar(select(Case).where(Case.channel == "online")) is None


def test_desk_accepts_and_the_clock_starts(world: World, api: Any) -> None:
    code = re.search(r'id="case-code">([^<]+)<', _submit(api).get_data(as_text=True)).group(1)
    with world.db.transaction() as s:
        with pytest.raises(NotFound):  # another commune's clerk does not even see it
            public.accept_online(s, world.user(s, "xa_a1_clerk"), code)
    with world.db.transaction() as s:
        case = public.accept_online(s, world.user(s, "xa_a2_clerk"), code, now=at("2025-03-03 09:00"))
        assert case.status_code == 2 and case.due_at is not None and case.received_at == at("2025-03-03 09:00")
        item = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id))
        assert item.unit.code == "XA_A2" and item.state == "open"
        to_applicant = select(Notification).where(Notification.case_id == case.id, Notification.user_id.is_(None))
        assert len(s.scalars(to_applicant).all()) == 2
    with world.db.transaction() as s:
        with pytest.raises(Conflict):  # accepted once only
            public.accept_online(s, world.user(s, "xa_a2_clerk"), code)
    with world.db.transaction() as s:
        f = reports.filters_for(s, world.user(s, "admin"), "2025-03-01", "2025-03-31")
        assert reports.summary(s, f)["received_online"] == 1


def test_supplement_round_trip_then_refusal(world: World, api: Any, tmp_path: Any) -> None:
    html = _submit(api).get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', html).group(1)
    secret = re.search(r'id="case-secret">([^<]+)<', html).group(1)
    with world.db.transaction() as s:
        public.request_supplement_online(s, world.user(s, "xa_a2_clerk"), code, ["Giấy chứng tử (bản sao)"], "")
    track = _track(api, code, secret).get_data(as_text=True)
    assert "Yêu cầu bổ sung giấy tờ" in track and "<li>Giấy chứng tử (bản sao)</li>" in track
    # The citizen uploads the missing paper from the lookup page.
    resp = api.client.post("/tra-cuu/bo-sung", data={"csrf_token": _csrf(track), "code": code, "secret": secret,
                                                     "note": "Đã bổ sung", "files": (io.BytesIO(PDF), "chung-tu.pdf")},
                           content_type="multipart/form-data")
    assert resp.status_code == 200 and "Đã gửi giấy tờ bổ sung" in resp.get_data(as_text=True)
    assert _case(world, code).status_code == 1
    with world.db.transaction() as s:
        public.refuse_online(s, world.user(s, "xa_a2_clerk"), code, "Không thuộc đối tượng bảo trợ xã hội")
    case = _case(world, code)
    assert (case.status_code, case.result) == (3, "refused")
    track = _track(api, code, secret).get_data(as_text=True)
    assert "Không được tiếp nhận" in track and "Không thuộc đối tượng bảo trợ xã hội" in track
