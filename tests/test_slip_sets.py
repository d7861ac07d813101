"""A legal set of forms per deployment (MOTCUA_SLIP_SET): TT 01/2018's six or TT 03/2025's seven. The 2025
forms render as PDFs that carry the số định danh, the proxy, where the result is collected, the competent
unit, a digital-signature line on electronic forms, the stop notice and the ledger's delivery column."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from engine import cases, slip_sets, slips
from engine.db import Database
from engine.demo import create_demo
from engine.errors import Invalid
from engine.ledger import rows_for_cases
from engine.models import Case
from tests.conftest import World
from web.cli import main

PROXY = {"name": "Lê Văn Cường", "id_number": "036080009999", "address": "Số 5 phố Huế",
         "authorisation": "Giấy ủy quyền số 12/2026"}
APPLICANT = {"name": "Nguyễn Thị Dung", "id_number": "036190001111", "address": "Thôn 3, xã Hòa An",
             "phone": "0911222333"}


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


@pytest.fixture
def tt03(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv(slip_sets.SET_ENV, "tt03-2025")
    with world.db.transaction() as s:
        create_demo(s, levels=2)
    return world


def render(world: World, code: str, nn: str) -> str:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert nn in slips.available_slips(s, case)
        return pdf_text(slips.render_slip(s, case, nn))


def test_receipt_carries_id_number_proxy_competent_unit_and_where_to_collect(tt03: World) -> None:
    code = tt03.receive("xa_hoa_an_clerk", "ncc_mai_tang_2025", applicant=APPLICANT, data={"proxy": PROXY},
                        competent_unit="XA_BINH_SON", return_channel="post")
    text = render(tt03, code, "01")
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text.upper() and code in text
    for value in ("036190001111", "Lê Văn Cường", "036080009999", "Giấy ủy quyền số 12/2026",
                  "UBND xã Bình Sơn", "Qua dịch vụ bưu chính công ích", "Thôn 3, xã Hòa An"):
        assert value in text, value
    assert "ký số" not in text  # a paper form is signed by hand


def test_electronic_receipt_has_the_digital_signature_line(tt03: World) -> None:
    code = tt03.receive("xa_hoa_an_clerk", "ncc_mai_tang_2025", applicant=APPLICANT, channel="online",
                        return_channel="online")
    text = render(tt03, code, "01")
    assert "Biểu mẫu điện tử — ký số" in text and "Cổng Dịch vụ công quốc gia" in text


def test_supplement_refusal_and_control_forms(tt03: World) -> None:
    code = tt03.receive("xa_hoa_an_clerk", "ncc_mai_tang_2025", applicant=APPLICANT)
    tt03.complete_next(code, {"outcome": "supplement", "missing_documents": ["Giấy báo tử"],
                              "reason": "Thiếu giấy báo tử"})
    text = render(tt03, code, "02")
    assert "PHIẾU YÊU CẦU BỔ SUNG" in text.upper() and "036190001111" in text and "Giấy báo tử" in text
    text = render(tt03, code, "06")
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text.upper() and "UBND xã Hòa An" in text
    with tt03.db.transaction() as s:
        refused = cases.record_intake_outcome(s, tt03.user(s, "xa_hoa_an_clerk"), "ncc_mai_tang_2025", APPLICANT,
                                              "refused", "Không thuộc đối tượng hưởng chế độ")
        refused_code = refused.code
    text = render(tt03, refused_code, "03")
    assert "PHIẾU TỪ CHỐI" in text.upper() and "Mã hồ sơ (nếu có)" in text and "036190001111" in text
    assert "118/2025" in text and "Không thuộc đối tượng hưởng chế độ" in text


def test_ledger_is_form_07_with_how_the_result_was_delivered(tt03: World) -> None:
    code = tt03.receive("xa_hoa_an_clerk", "ncc_mai_tang_2025", applicant=APPLICANT, return_channel="post")
    with tt03.db.transaction() as s:
        rows = rows_for_cases(s, [s.scalar(select(Case).where(Case.code == code))])
        text = pdf_text(slips.render_ledger(rows, "Tháng 12/2026"))
    assert "SỔ THEO DÕI HỒ SƠ" in text.upper() and "Hình thức trả kết quả" in text
    assert "bưu chính" in text and code.split("-")[0] in text


def test_tt01_set_is_unchanged_and_a_wrong_set_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    code = world.receive("xa_a1_clerk")
    text = render(world, code, "05")
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text.upper()  # TT 01/2018: Mẫu 05 is the control slip
    monkeypatch.setenv(slip_sets.SET_ENV, "tt99")
    with world.db.transaction() as s, pytest.raises(Invalid) as e:
        slip_sets.current(s)
    assert slip_sets.SET_ENV in e.value.details


def test_two_level_deployment_defaults_to_the_2025_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(slip_sets.SET_ENV, raising=False)
    url = f"sqlite:///{tmp_path}/two.db"
    result = CliRunner().invoke(main, ["init", "--demo", "--levels", "2"],
                                env={"MOTCUA_DATABASE_URL": url, "MOTCUA_INSTANCE_PATH": str(tmp_path)})
    assert result.exit_code == 0, result.output
    database = Database(url)
    with database.transaction() as s:
        assert slip_sets.current(s) == "tt03-2025"
        assert slip_sets.titles(s)["05"] == "Thông báo dừng giải quyết hồ sơ"
    database.dispose()
