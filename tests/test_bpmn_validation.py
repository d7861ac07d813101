"""`motcua validate`: a broken diagram is answered FILE:LINE: ELEMENT_ID: message, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from web.cli import main

DIAGRAMS = Path(__file__).parent / "diagrams"
GOOD = (DIAGRAMS / "two_lanes.bpmn").read_text(encoding="utf-8")


def run_validate(tmp_path: Path, text: str | bytes, name: str = "p.bpmn") -> tuple[int, list[str]]:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    result = CliRunner().invoke(main, ["validate", str(path)], env={"MOTCUA_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_valid_diagram_exits_zero(tmp_path: Path) -> None:
    code, lines = run_validate(tmp_path, GOOD)
    assert code == 0, lines
    assert lines == []


def test_malformed_xml_names_the_line(tmp_path: Path) -> None:
    broken = GOOD.replace('<bpmn:endEvent id="done">', '<bpmn:endEvent id="done"', 1)
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    assert len(lines) == 1 and "XML sai cú pháp" in lines[0]
    near = line_of(broken, '<bpmn:endEvent id="done"')
    reported = int(lines[0].split(":")[1])
    assert near <= reported <= near + 1, lines


def test_dangling_flow_names_the_flow_and_its_line(tmp_path: Path) -> None:
    broken = GOOD.replace('sourceRef="review" targetRef="appraise"', 'sourceRef="review" targetRef="nowhere"')
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    want = f"{tmp_path / 'p.bpmn'}:{line_of(broken, 'targetRef=' + chr(34) + 'nowhere')}: f2: "
    assert any(line.startswith(want) and "'nowhere'" in line for line in lines), lines


def test_unknown_role_of_a_lane_names_the_lane_on_its_line(tmp_path: Path) -> None:
    broken = GOOD.replace('name="role" value="specialist" />\n          </spiffworkflow:properties>\n'
                          '        </bpmn:extensionElements>\n        <bpmn:flowNodeRef>appraise',
                          'name="role" value="janitor" />\n          </spiffworkflow:properties>\n'
                          '        </bpmn:extensionElements>\n        <bpmn:flowNodeRef>appraise')
    assert "janitor" in broken
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    line = line_of(broken, '<bpmn:lane id="lane_district"')
    want = f"{tmp_path / 'p.bpmn'}:{line}: lane_district: vai trò 'janitor' không tồn tại"
    assert any(line.startswith(want) for line in lines), lines
    assert not any(": appraise: " in line for line in lines), lines  # fixed once, on the lane


def test_unknown_role_declared_on_a_step_names_the_step(tmp_path: Path) -> None:
    broken = GOOD.replace('<spiffworkflow:property name="deadline_days" value="2.5" />',
                          '<spiffworkflow:property name="deadline_days" value="2.5" />'
                          '<spiffworkflow:property name="role" value="janitor" />')
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    want = f"{tmp_path / 'p.bpmn'}:{line_of(broken, '<bpmn:userTask id=' + chr(34) + 'appraise')}: appraise: "
    assert any(line.startswith(want) and "vai trò 'janitor' không tồn tại" in line for line in lines), lines
    assert not any("lane_district" in line for line in lines), lines


def test_lane_without_role_names_the_lane_and_its_steps(tmp_path: Path) -> None:
    broken = GOOD.replace('<spiffworkflow:property name="role" value="specialist" />', "", 1)
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    want = f"{tmp_path / 'p.bpmn'}:{line_of(broken, '<bpmn:lane id=' + chr(34) + 'lane_commune')}: lane_commune: "
    assert [line for line in lines if line.startswith(want)] == [
        want + "làn 'Xã — Chuyên viên' chưa có thuộc tính role (vai trò) cho bước 'Xã xem xét': khai báo trên làn "
               "hoặc trên chính bước"], lines
    assert not any(": review: " in line for line in lines), lines


def test_missing_deadline_is_reported(tmp_path: Path) -> None:
    broken = GOOD.replace('<spiffworkflow:property name="deadline_days" value="2.5" />', "")
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    assert any(": appraise: " in line and "deadline_days" in line for line in lines), lines


@pytest.mark.parametrize("condition, why", [
    ('__import__("os").system("id")', "dunder"),
    ("outcome == = 1", "syntax"),
    ("outcome.__class__", "dunder attribute"),
])
def test_unsafe_or_broken_condition_is_rejected(tmp_path: Path, condition: str, why: str) -> None:
    broken = GOOD.replace('outcome == "refuse"', condition.replace('"', "&quot;"))
    code, lines = run_validate(tmp_path, broken)
    assert code == 2, why
    line = line_of(broken, "conditionExpression")
    want = f"{tmp_path / 'p.bpmn'}:{line}: f_refuse: conditionExpression không biên dịch được"
    assert any(line.startswith(want) for line in lines), lines


def test_unknown_form_is_reported(tmp_path: Path) -> None:
    broken = GOOD.replace('<spiffworkflow:property name="deadline_days" value="2" />',
                          '<spiffworkflow:property name="deadline_days" value="2" />'
                          '<spiffworkflow:property name="form" value="no_such_form" />')
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    assert any(": review: biểu mẫu 'no_such_form' không tồn tại" in line for line in lines), lines


def test_task_outside_any_lane_without_level_is_reported(tmp_path: Path) -> None:
    broken = GOOD.replace("<bpmn:flowNodeRef>appraise</bpmn:flowNodeRef>", "")
    code, lines = run_validate(tmp_path, broken)
    assert code == 2
    assert any(": appraise: " in line and "chưa có cấp/vai trò" in line for line in lines), lines


def test_not_bpmn_and_binary_garbage_are_clear(tmp_path: Path) -> None:
    code, lines = run_validate(tmp_path, "<html><body>hello</body></html>")
    assert code == 2 and "không phải tệp BPMN 2.0" in lines[0]
    code, lines = run_validate(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    assert code == 2 and "XML sai cú pháp" in lines[0]


def test_xml_entities_are_not_expanded(tmp_path: Path) -> None:
    evil = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + GOOD.split("?>", 1)[1].replace('name="Xã xem xét"', 'name="&x;"'))
    code, lines = run_validate(tmp_path, evil)
    assert code == 2 and ("không cho phép khai báo DOCTYPE/ENTITY" in lines[0] or "entity" in lines[0])
    internal = GOOD.replace('<bpmn:definitions', '<!DOCTYPE d [<!ENTITY y "boom">]>\n<bpmn:definitions', 1)
    code, lines = run_validate(tmp_path, internal)
    assert code == 2 and "không cho phép khai báo DOCTYPE/ENTITY" in lines[0]
    assert "root:" not in "\n".join(lines)


def test_legal_limit_exceeded_is_a_warning_not_an_error(tmp_path: Path) -> None:
    slow = GOOD.replace('name="deadline_days" value="5"', 'name="deadline_days" value="4"')
    code, lines = run_validate(tmp_path, slow)
    assert code == 0
    assert any("warning" in line and "4.5" in line and "vượt thời hạn luật định" in line for line in lines), lines


def test_step_connected_to_nothing_is_reported_on_its_line(tmp_path: Path) -> None:
    text = (DIAGRAMS / "disconnected_task.bpmn").read_text(encoding="utf-8")
    code, lines = run_validate(tmp_path, text)
    assert code == 2
    where = f"{tmp_path / 'p.bpmn'}:{line_of(text, '<bpmn:userTask id=' + chr(34) + 'orphan')}: orphan: "
    assert [line.removeprefix(where) for line in lines] == [
        "'Bước chưa nối' không có luồng vào: nối một luồng từ bước trước (hoặc sự kiện bắt đầu) tới nó",
        "'Bước chưa nối' không có luồng ra: nối nó tới bước sau hoặc tới sự kiện kết thúc"], lines


def test_unreachable_steps_and_dead_end_loops_are_reported(tmp_path: Path) -> None:
    text = (DIAGRAMS / "unreachable.bpmn").read_text(encoding="utf-8")
    code, lines = run_validate(tmp_path, text)
    assert code == 2
    found = {line.split(": ")[1]: line for line in lines if "warning" not in line}
    assert set(found) == {"island1", "island2", "spin1", "spin2"}, lines
    assert "không có luồng vào" in found["island1"]
    assert "không tới được 'Đảo hai' từ sự kiện bắt đầu" in found["island2"]
    for eid in ("spin1", "spin2"):
        assert "không có đường tới sự kiện kết thúc" in found[eid]
        assert found[eid].startswith(f"{tmp_path / 'p.bpmn'}:{line_of(text, f'<bpmn:userTask id={chr(34)}{eid}')}:")


def test_designer_server_check_agrees_with_the_canvas_on_a_disconnected_step(api: Any) -> None:
    """The check behind the designer's "Kiểm tra" button: no longer "valid" for a step connected to nothing,
    and deploying it is refused with the same element id."""
    body = (DIAGRAMS / "disconnected_task.bpmn").read_bytes()
    resp = api.post("/api/v1/processes/validate", "designer", data=body, headers={"Content-Type": "application/xml"})
    assert resp.status_code == 200
    answer = resp.get_json()
    assert answer["valid"] is False
    assert {p["element_id"] for p in answer["problems"]} == {"orphan"}
    resp = api.post("/api/v1/processes?procedure=disconnected", "designer", data=body,
                    headers={"Content-Type": "application/xml"})
    assert resp.status_code == 422 and {p["element_id"] for p in resp.get_json()["problems"]} == {"orphan"}
