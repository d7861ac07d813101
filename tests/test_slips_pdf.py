"""The printed legal slips (Thông tư 01/2018/TT-VPCP, Mẫu 01–06) are real PDFs with the case's data, Vietnamese
text in an embedded font, on the paper size of the circular. Each slip is rendered once per backend."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from engine import cases, slips
from engine.errors import NotFound
from engine.ledger import rows_for_cases as ledger_rows_for
from engine.models import Case, Event, WorkItem
from tests.conftest import at

A5 = (419.5, 595.3)  # points, portrait
A4_LANDSCAPE = (841.9, 595.3)


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF with whitespace collapsed (table cells wrap words onto new lines)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def page_size(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts whose file is inside the PDF."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                desc = desc.get_object()
                descriptor = desc.get("/FontDescriptor")
                if descriptor is not None and any(k in descriptor.get_object()
                                                  for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(desc["/BaseFont"]).split("+")[-1])
    return names


def title_in(nn: str, text: str) -> bool:
    return slips.SLIPS[nn].upper() in text.upper()


def case_by_code(s, code: str) -> Case:  # noqa: ANN001
    return s.scalar(select(Case).where(Case.code == code))


def test_receipt_and_control_slip_of_a_three_level_case(world) -> None:  # noqa: ANN001
    received = at("2026-03-02 08:00")
    code = world.receive(received_at=received, now=received,
                         applicant={"name": "Nguyễn Văn Ấn", "address": "Thôn Đông, xã An Phú", "phone": "0912345678",
                                    "email": "an@example.vn"},
                         data={"documents_received": ["ban_khai", "giay_bao_tu"]})
    # Commune steps early, the district step late, the rest on the same late day: the slip must tell them apart.
    moments = ["2026-03-03 09:00", "2026-03-04 09:00", "2026-03-31 10:00", "2026-03-31 11:00", "2026-03-31 14:00",
               "2026-03-31 15:00"]
    done = []
    for moment in moments:
        with world.db.transaction() as s:
            if not cases.open_items(s, case_by_code(s, code)):
                break
        done.append(world.complete_next(code, {"outcome": "approve", "y_kien_ra_soat": "Hồ sơ hợp lệ"},
                                        now=at(moment)))
    assert len(done) >= 4, done

    with world.db.transaction() as s:
        case = case_by_code(s, code)
        assert slips.available_slips(s, case) == ["01", "05"]
        receipt = slips.render_slip(s, case, "01", base_url="https://dichvucong.songhong.gov.vn")
        control = slips.render_slip(s, case, "05")
        handovers = [e for e in cases.events(s, case) if e.kind == "handover"]
        timings = {i.name: i.timing for i in s.scalars(select(WorkItem).where(WorkItem.case_id == case.id))}
        rows = slips.control_rows(s, case)

    text = pdf_text(receipt)
    assert title_in("01", text) and code in text and "Nguyễn Văn Ấn" in text
    assert "Thôn Đông, xã An Phú" in text and "0912345678" in text and "an@example.vn" in text
    assert "Giấy báo tử hoặc trích lục khai tử" in text  # the desk's document codes, by their catalog names
    assert "24 ngày làm việc" in text  # the procedure's legal time limit
    assert "08 giờ 00 phút, ngày 02/03/2026" in text  # received
    assert "https://dichvucong.songhong.gov.vn/tra-cuu" in text and case.lookup_secret in text
    assert "Tinos" in embedded_fonts(receipt) and "Tinos-Bold" in embedded_fonts(receipt)
    assert page_size(receipt) == pytest.approx(A5, abs=1)

    text = pdf_text(control)
    assert title_in("05", text) and code in text and "Nguyễn Văn Ấn" in text
    assert len(rows) == len(handovers) + 1  # the receipt, then one row per handover
    for ev in handovers:
        assert ev.step in text
    assert "Sở Lao động – Thương binh và Xã hội tỉnh Sông Hồng" in text  # the province decides: lead agency
    assert {r.step: r.timing for r in rows[1:] if r.timing} == {k: v for k, v in timings.items() if v}
    assert "early" in timings.values() and "late" in timings.values()
    # Each label once per step with that result (and once for the case), besides the column header on every page.
    header = text.count("Kết quả (Trước hạn / Đúng hạn / Quá hạn)")
    assert header >= 1
    for timing, label in slips.TIMING.items():
        expected = header + sum(r.timing == timing for r in rows) + (case.timing == timing)
        assert text.count(label) == expected, label
    assert page_size(control) == pytest.approx(A5, abs=1)


def test_intake_refusal_and_incomplete_dossier(world) -> None:  # noqa: ANN001
    with world.db.transaction() as s:
        clerk = world.user(s, "xa_a1_clerk")
        incomplete = cases.record_intake_outcome(
            s, clerk, "ncc_mai_tang", {"name": "Trần Thị Bưởi", "address": "Xóm Đồi"}, "incomplete",
            "Bản khai chưa có xác nhận", missing=["giay_bao_tu", "Bản sao sổ hộ khẩu"])
        refused = cases.record_intake_outcome(
            s, clerk, "ho_tro_mai_tang", {"name": "Lê Văn Cường"}, "refused",
            "Người mất không thuộc đối tượng được hỗ trợ chi phí mai táng")
        assert slips.available_slips(s, incomplete) == ["02"]
        assert slips.available_slips(s, refused) == ["03"]
        with pytest.raises(NotFound):
            slips.render_slip(s, refused, "01")  # never received: no receipt
        with pytest.raises(NotFound):
            slips.render_slip(s, refused, "09")
        request = slips.render_slip(s, incomplete, "02")
        refusal = slips.render_slip(s, refused, "03")
        codes = incomplete.code, refused.code

    text = pdf_text(request)
    assert title_in("02", text) and codes[0] in text and "Trần Thị Bưởi" in text
    assert "Giấy báo tử hoặc trích lục khai tử" in text and "Bản sao sổ hộ khẩu" in text
    assert "Bản khai chưa có xác nhận" in text
    text = pdf_text(refusal)
    assert title_in("03", text) and codes[1] in text and "Lê Văn Cường" in text
    assert "Người mất không thuộc đối tượng được hỗ trợ chi phí mai táng" in text


def test_supplement_request_and_apology(world) -> None:  # noqa: ANN001
    code = world.receive(applicant={"name": "Phạm Thị Hương", "address": "Xóm Đông"})
    world.complete_next(code, {"outcome": "supplement", "y_kien_ra_soat": "Bản khai thiếu chữ ký",
                               "giay_to_can_bo_sung": "Bản khai có chữ ký của thân nhân\nGiấy báo tử bản sao"})
    with world.db.transaction() as s:
        case = case_by_code(s, code)
        assert "02" in slips.available_slips(s, case) and "04" not in slips.available_slips(s, case)
        request = slips.render_slip(s, case, "02")
        # Another module records apologies; the slip reads its event.
        s.add(Event(case_id=case.id, kind="apology", at=case.received_at + timedelta(days=1),
                    data={"reason": "Cần xác minh thêm tại địa phương nơi cư trú",
                          "previous_due_at": at("2026-04-15 17:00").isoformat(),
                          "new_due_at": at("2026-04-22 17:00").isoformat()}))
        s.flush()
        assert slips.available_slips(s, case) == ["01", "02", "04", "05"]
        apology = slips.render_slip(s, case, "04")

    text = pdf_text(request)
    assert title_in("02", text) and code in text and "Phạm Thị Hương" in text
    assert "Bản khai có chữ ký của thân nhân" in text and "Giấy báo tử bản sao" in text
    assert "Bản khai thiếu chữ ký" in text
    text = pdf_text(apology)
    assert title_in("04", text) and code in text and "Phạm Thị Hương" in text
    assert "Cần xác minh thêm tại địa phương nơi cư trú" in text
    assert "17 giờ 00 phút, ngày 15/04/2026" in text and "17 giờ 00 phút, ngày 22/04/2026" in text


def test_ledger_is_a4_landscape_with_one_row_per_case(world) -> None:  # noqa: ANN001
    first = world.receive(applicant={"name": "Đỗ Minh Đức", "address": "Xóm Bắc", "phone": "0987654321"})
    second = world.receive(procedure="tro_cap_xa_hoi", applicant={"name": "Vũ Thị Ánh"})
    with world.db.transaction() as s:
        rows = ledger_rows_for(s, [case_by_code(s, first), case_by_code(s, second)])
        ledger = slips.render_ledger(rows, "Tháng 03/2026")
    text = pdf_text(ledger)
    assert title_in("06", text) and "Tháng 03/2026" in text
    for code, name in ((first, "Đỗ Minh Đức"), (second, "Vũ Thị Ánh")):
        assert code in text and name in text
    assert page_size(ledger) == pytest.approx(A4_LANDSCAPE, abs=1)
    assert "Tinos" in embedded_fonts(ledger)


def test_a_province_template_folder_is_used(world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    own = tmp_path / "tinh_slips"
    own.mkdir()
    # Only what the province changed: one template and its agency line; the rest falls back to the shipped files.
    (own / "03.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>Mẫu riêng của tỉnh Hà Giang: {{ reason }}</p>{% endblock %}',
        encoding="utf-8")
    (own / "agency.toml").write_text('[default]\ngoverning_body = "UBND TỈNH HÀ GIANG"\n', encoding="utf-8")
    monkeypatch.setenv("MOTCUA_SLIPS_PATH", str(own))
    with world.db.transaction() as s:
        refused = cases.record_intake_outcome(s, world.user(s, "xa_b1_clerk"), "ho_tro_mai_tang",
                                              {"name": "Hoàng Văn Dũng"}, "refused", "Hồ sơ đã được giải quyết")
        pdf = slips.render_slip(s, refused, "03")
        code = refused.code
    text = pdf_text(pdf)
    assert "Mẫu riêng của tỉnh Hà Giang: Hồ sơ đã được giải quyết" in text
    assert "UBND TỈNH HÀ GIANG" in text and code in text
    assert "Tinos" in embedded_fonts(pdf)


def test_cli_writes_a_slip(world, tmp_path: Path) -> None:  # noqa: ANN001
    from web.cli import main

    with world.db.transaction() as s:
        case = cases.record_intake_outcome(s, world.user(s, "xa_a1_clerk"), "ncc_mai_tang", {"name": "Bùi Thị Én"},
                                           "incomplete", "Thiếu bản khai", missing=["ban_khai"])
        code = case.code
    env = {"MOTCUA_DATABASE_URL": world.db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path)}
    listed = CliRunner().invoke(main, ["slip", code, "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "02  Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ" in listed.output
    out = tmp_path / "mau02.pdf"
    result = CliRunner().invoke(main, ["slip", code, "02", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "Bùi Thị Én" in pdf_text(out.read_bytes())
    missing = CliRunner().invoke(main, ["slip", code, "01", "--out", str(out)], env=env)
    assert missing.exit_code == 1 and "không áp dụng" in missing.output
