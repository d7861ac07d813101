"""Each completed step keeps exactly what it submitted: the province's document number does not erase the
commune's, the case file shows both with their forms' labels, and a later step's form starts from an earlier
step's value where the form says so."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import step_outputs
from engine.models import Case, StepOutput
from engine.step_outputs import ImmutableRecord

# commune_review, commune_confirm, district_appraise, province_review, province_decide, return_result
STEPS = [{"outcome": "approve", "y_kien_ra_soat": "Đủ hồ sơ"},
         {"so_van_ban": "15/DS-UBND", "ngay_ky": "2026-11-30"},
         {"outcome": "approve", "muc_de_xuat": "1.800.000"},
         {"so_van_ban": "212/TTr-SLĐTBXH", "ngay_ky": "2026-12-01"}]


def _walk(world: Any, steps: list[dict]) -> str:
    code = world.receive()
    for data in steps:
        world.complete_next(code, data)
    return code


def test_a_later_step_with_the_same_field_leaves_the_earlier_record_intact(world: Any) -> None:
    code = _walk(world, STEPS)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        outputs = step_outputs.for_case(s, case)
        by_step = {o.step_bpmn_id: o for o in outputs}
        assert [o.step_bpmn_id for o in outputs] == ["commune_review", "commune_confirm", "district_appraise",
                                                      "province_review"]
        commune = by_step["commune_confirm"]
        assert commune.data["so_van_ban"] == "15/DS-UBND"
        assert commune.unit.code == "XA_A1" and commune.role_code == "leader"
        assert commune.completed_by.username == "xa_a1_leader" and commune.completed_at is not None
        assert commune.form == "trinh_ky" and len(commune.form_sha256) == 64
        assert by_step["province_review"].data["so_van_ban"] == "212/TTr-SLĐTBXH"
        # The district typed the amount the Vietnamese way; it is stored as the number it means.
        assert by_step["district_appraise"].data["muc_de_xuat"] == 1800000
        # Gateways read the merged data, where the latest completion wins.
        assert case.data["so_van_ban"] == "212/TTr-SLĐTBXH"


def test_a_step_record_cannot_be_changed_or_deleted(world: Any) -> None:
    code = _walk(world, STEPS[:2])
    with pytest.raises(ImmutableRecord), world.db.transaction() as s:
        out = s.scalar(select(StepOutput).where(StepOutput.step_bpmn_id == "commune_confirm"))
        out.data = {"so_van_ban": "99/GIA"}
        s.flush()
    with pytest.raises(ImmutableRecord), world.db.transaction() as s:
        s.delete(s.scalar(select(StepOutput).where(StepOutput.step_bpmn_id == "commune_confirm")))
        s.flush()
    with world.db.transaction() as s:
        out = s.scalar(select(StepOutput).join(Case).where(Case.code == code,
                                                           StepOutput.step_bpmn_id == "commune_confirm"))
        assert out.data["so_van_ban"] == "15/DS-UBND"


def test_case_file_rows_are_labelled_and_formatted_and_the_decision_starts_from_the_proposal(world: Any) -> None:
    code = _walk(world, STEPS)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        forms = case.process_version.forms
        files = {f.output.step_bpmn_id: f for f in step_outputs.case_file(s, case, forms)}
        district = {r.label: r.value for r in files["district_appraise"].rows}
        assert district["Mức trợ cấp, hỗ trợ đề xuất (đồng)"] == "1.800.000 đ"
        assert district["Kết quả thẩm định"].startswith("Đồng ý")
        commune = {r.label: r.value for r in files["commune_confirm"].rows}
        assert commune["Ngày ký"] == "30/11/2026"
        assert commune["Số văn bản (tờ trình, danh sách, văn bản đề nghị)"] == "15/DS-UBND"
        node = case.process_version.nodes["province_decide"]
        assert step_outputs.prefill(s, case, forms["quyet_dinh"], node) == {"so_tien": 1800000}
        # A rule in the diagram (spiffworkflow property) works without touching the form.
        rule = {"prefill": "so_quyet_dinh=commune_confirm.so_van_ban"}
        assert step_outputs.prefill(s, case, forms["quyet_dinh"], rule) == {"so_tien": 1800000,
                                                                            "so_quyet_dinh": "15/DS-UBND"}


def test_yes_no_and_missing_values_read_as_words() -> None:
    comp = {"type": "checkbox", "key": "co_khieu_nai", "label": "Có khiếu nại"}
    assert step_outputs.format_value(comp, True) == "Có"
    assert step_outputs.format_value(comp, False) == "Không"
    assert step_outputs.format_value(comp, None) == "—"
