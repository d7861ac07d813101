"""Every PDF motcua issues carries the issuing agency's PAdES signature; the applicant downloads the province's
signed decision with the case code and secret; anyone can check a PDF, and one changed byte shows."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from engine import signing, slips
from engine.demo import demo_agencies
from engine.models import Case, Event, Notification
from engine.pdf import render_pdf
from tests.test_three_level_case_api import receive, user_for
from web.cli import main

PROVINCE = "000.00.30.H99"
COMMUNE = "000.31.31.H99"
DATA = {"commune_review": {"outcome": "approve"}, "commune_confirm": {"so_van_ban": "15/DS-UBND"},
        "district_appraise": {"outcome": "approve", "muc_de_xuat": "1.800.000"},
        "province_review": {"so_van_ban": "212/TTr-SLĐTBXH"},
        "province_decide": {"outcome": "approve", "so_quyet_dinh": "1234/QĐ-SLĐTBXH", "so_tien": "1.800.000"},
        "return_result": {"hinh_thuc_tra": "tai_quay"}}


def _keys(api: Any) -> Path:
    path = api.app.config["MOTCUA"].signing_path
    signing.make_demo_keys(demo_agencies(), path)
    signing.configure(path)
    return path


def _pyhanko_signer(pdf: bytes, roots: Path) -> tuple[bool, str]:
    """Validate with pyHanko directly (not through engine.signing): intact and trusted, and whose certificate."""
    from asn1crypto import pem, x509

    trust = [x509.Certificate.load(der) for _k, _h, der in pem.unarmor((roots / "trust" / "demo-ca.pem")
                                                                         .read_bytes(), multiple=True)]
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=trust, allow_fetching=False))
    return status.intact and status.valid and status.trusted, status.signing_cert.subject.native["common_name"]


def _walk_to(api: Any, code: str, stop: str) -> dict:
    for _ in range(10):
        task = api.get(f"/api/v1/cases/{code}", "xa_a1_clerk").get_json()["tasks"][0]
        if task["step"] == stop:
            return task
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task), json={"data": DATA[task["step"]]})
        assert done.status_code == 200, done.get_json()
    raise AssertionError(f"never reached {stop}")


def test_slips_are_signed_by_the_receiving_agency(api: Any, world: Any) -> None:
    roots = _keys(api)
    code = world.receive()
    with world.db.transaction() as s:
        pdf = slips.render_slip(s, s.scalar(select(Case).where(Case.code == code)), "01")
    assert _pyhanko_signer(pdf, roots) == (True, COMMUNE)


def test_the_province_decision_reaches_the_applicant_signed_and_a_changed_byte_shows(api: Any) -> None:
    roots = _keys(api)
    case = receive(api)
    code = case["code"]
    decide = _walk_to(api, code, "province_decide")
    decision = render_pdf("<h1>Quyết định 1234/QĐ-SLĐTBXH</h1><p>Trợ cấp mai táng: 1.800.000 đ</p>")
    up = api.post(f"/api/v1/cases/{code}/documents", user_for(decide), content_type="multipart/form-data",
                  data={"file": (io.BytesIO(decision), "quyet-dinh.pdf"), "step": str(decide["id"]), "result": "1"})
    assert up.status_code == 201, up.get_json()
    assert up.get_json()["result"] is True
    assert up.get_json()["sha256"] == hashlib.sha256(decision).hexdigest()  # kept as uploaded until the return
    done = api.post(f"/api/v1/tasks/{decide['id']}/complete", user_for(decide),
                    json={"data": DATA["province_decide"], "documents": [up.get_json()["id"]]})
    assert done.status_code == 200, done.get_json()
    # Not offered before the case is returned.
    secret = _secret(api, code)
    early = api.post(f"/api/v1/public/cases/{code}/results", json={"secret": secret})
    assert early.status_code == 200 and early.get_json()["documents"] == []
    _finish(api, code)
    assert api.post(f"/api/v1/public/cases/{code}/results", json={"secret": "WRONG1"}).status_code == 404
    results = api.post(f"/api/v1/public/cases/{code}/results", json={"secret": secret}).get_json()
    assert [d["name"] for d in results["documents"]] == ["quyet-dinh.pdf"]
    with api.db.transaction() as s:  # and by e-mail through the outbox: names the result, never the secret
        mail = s.scalar(select(Notification).where(Notification.kind == "results"))
        assert mail.email == "binh@example.vn" and "quyet-dinh.pdf" in mail.message and secret not in mail.message
    url = results["documents"][0]["url"]
    signed = api.client.get(url.replace("http://localhost", "")).data
    assert signed.startswith(b"%PDF-") and len(signed) > len(decision)
    assert _pyhanko_signer(signed, roots) == (True, PROVINCE)
    assert results["documents"][0]["sha256"] == hashlib.sha256(signed).hexdigest()
    with api.db.transaction() as s:  # the audit keeps what was uploaded and what was issued
        event = s.scalar(select(Event).where(Event.kind == "result_signed"))
        assert event.data["sha256_uploaded"] == hashlib.sha256(decision).hexdigest()
        assert event.data["sha256_signed"] == hashlib.sha256(signed).hexdigest() and event.data["agency"] == PROVINCE
    # A forged link (another token) gives nothing.
    assert api.client.get(url.replace("http://localhost", "")[:-4] + "0000").status_code == 404

    ok = api.post("/api/v1/public/verify", data=signed, content_type="application/pdf").get_json()
    assert ok["ok"] and ok["intact"] and ok["trusted"] and PROVINCE in ok["signer"] and ok["signed_at"]
    altered = bytearray(signed)
    altered[signed.index(b"1234/Q") if b"1234/Q" in signed else len(decision) // 2] ^= 0x01
    bad = api.post("/api/v1/public/verify", data=bytes(altered), content_type="application/pdf").get_json()
    assert not bad["ok"] and bad["problem"]
    api.app.config["WTF_CSRF_ENABLED"] = False  # the page's form carries a CSRF token; this client posts directly
    page = api.client.post("/xac-thuc", data={"file": (io.BytesIO(bytes(altered)), "quyet-dinh.pdf")},
                           content_type="multipart/form-data")
    assert "đã bị thay đổi" in page.get_data(as_text=True)


def test_a_result_uploaded_before_the_agency_had_a_key_is_signed_when_returned(api: Any) -> None:
    """The agency signs what it issues when it issues it: the operator installs the keys after the upload."""
    path = api.app.config["MOTCUA"].signing_path
    signing.configure(path)  # no keys yet
    case = receive(api)
    code = case["code"]
    decide = _walk_to(api, code, "province_decide")
    decision = render_pdf("<p>Quyết định 77/QĐ-SLĐTBXH</p>")
    up = api.post(f"/api/v1/cases/{code}/documents", user_for(decide), content_type="multipart/form-data",
                  data={"file": (io.BytesIO(decision), "qd-77.pdf"), "step": str(decide["id"]), "result": "1"})
    assert up.status_code == 201 and not signing.verify(decision).signed
    assert api.post(f"/api/v1/tasks/{decide['id']}/complete", user_for(decide),
                    json={"data": DATA["province_decide"]}).status_code == 200
    roots = _keys(api)  # now the operator installs the agencies' certificates
    _finish(api, code)
    listed = api.post(f"/api/v1/public/cases/{code}/results", json={"secret": _secret(api, code)}).get_json()
    returned = api.client.get(listed["documents"][0]["url"].replace("http://localhost", "")).data
    assert _pyhanko_signer(returned, roots) == (True, PROVINCE)


def test_an_already_signed_result_is_returned_as_it_was_signed(api: Any) -> None:
    _keys(api)
    case = receive(api)
    code = case["code"]
    task = case["tasks"][0]
    by_commune = signing.sign(render_pdf("<p>Danh sách</p>"), COMMUNE)
    up = api.post(f"/api/v1/cases/{code}/documents", user_for(task), content_type="multipart/form-data",
                  data={"file": (io.BytesIO(by_commune), "ds.pdf"), "step": str(task["id"]), "result": "true"})
    assert up.status_code == 201
    _finish(api, code)
    listed = api.post(f"/api/v1/public/cases/{code}/results", json={"secret": _secret(api, code)}).get_json()
    returned = api.client.get(listed["documents"][0]["url"].replace("http://localhost", "")).data
    assert returned == by_commune  # not signed a second time
    with api.db.transaction() as s:
        assert s.scalar(select(Event).where(Event.kind == "result_signed")) is None


def test_init_demo_creates_a_ca_and_a_certificate_per_agency(tmp_path: Path) -> None:
    env = {"MOTCUA_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "MOTCUA_INSTANCE_PATH": str(tmp_path)}
    out = CliRunner().invoke(main, ["init", "--demo"], env=env)
    assert out.exit_code == 0, out.output
    assert (tmp_path / "signing" / "trust" / "demo-ca.pem").exists()
    assert {p.stem for p in (tmp_path / "signing").glob("*.p12")} == set(demo_agencies())


def _secret(api: Any, code: str) -> str:
    with api.db.transaction() as s:
        return s.scalar(select(Case.lookup_secret).where(Case.code == code))


def _finish(api: Any, code: str) -> None:
    for _ in range(6):
        tasks = api.get(f"/api/v1/cases/{code}", "xa_a1_clerk").get_json()["tasks"]
        if not tasks:
            return
        task = tasks[0]
        assert api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task),
                        json={"data": DATA[task["step"]]}).status_code == 200
