"""A new procedure's starting diagram: the liên thông shape (received at the commune desk, one step per
chosen level, result back at the desk), with lanes, properties and layout the editor opens as is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs
from engine.design_access import check_code
from engine.errors import Invalid
from engine.models import Level, Procedure


@dataclass
class _Node:
    id: str
    kind: str  # start | task | end
    name: str
    lane: int
    props: dict[str, str] = field(default_factory=dict)


def template(session: Session, code: str, name: str, levels: Sequence[str], *, deadline_days: Decimal | int = 10,
             step_days: Decimal | int = 3) -> str:
    """A liên thông procedure's common shape: the desk of the lowest level (the commune) has received the
    case; one processing step at each chosen level, lowest first; the result goes back to that desk."""
    check_code(code)
    check = inputs.Checker()
    name = check.text("name", name, Procedure.name, required=True)
    for key, value in (("deadline_days", deadline_days), ("step_days", step_days)):
        days = check.number(key, value)
        if days is not None and not 0 <= days <= 999:  # Numeric(8, 2) and a sane legal time limit
            check.add(key, "phải trong khoảng 0…999 ngày làm việc")
    check.done()
    by_code = {lv.code: lv for lv in session.scalars(select(Level))}
    if not levels:
        raise Invalid.of("levels_required", details={"levels": "required"})
    unknown = [lv for lv in levels if lv not in by_code]
    if unknown:
        raise Invalid.of("levels_unknown", levels=", ".join(unknown), details={"levels": unknown})
    desk = max(by_code.values(), key=lambda lv: lv.rank)  # where cases are received: the lowest level
    chosen = sorted(dict.fromkeys(levels), key=lambda c: -by_code[c].rank)  # commune → … → province
    lanes = [(desk.code, "clerk", f"{desk.name} — Bộ phận Một cửa")]
    lanes += [(lv, "specialist", f"{by_code[lv].name} — Chuyên viên xử lý") for lv in chosen]
    nodes = [_Node("start", "start", "Hồ sơ đã tiếp nhận", 0)]
    for i, lv in enumerate(chosen, start=1):
        nodes.append(_Node(f"process_{lv}", "task", f"Xử lý hồ sơ ({by_code[lv].name.lower()})", i,
                           {"deadline_days": str(step_days)}))
    nodes.append(_Node("return_result", "task", "Trả kết quả cho công dân", 0,
                       {"deadline_days": "0.5", "status_code": "10"}))
    nodes.append(_Node("end", "end", "Đã trả kết quả", 0, {"result": "approved"}))
    return _render(code, name, Decimal(str(deadline_days)), lanes, nodes)


def _props_xml(props: Mapping[str, str], indent: str) -> str:
    if not props:
        return ""
    inner = "".join(f'{indent}    <spiffworkflow:property name={quoteattr(k)} value={quoteattr(v)} />\n'
                    for k, v in props.items())
    return (f"{indent}<bpmn:extensionElements>\n{indent}  <spiffworkflow:properties>\n{inner}"
            f"{indent}  </spiffworkflow:properties>\n{indent}</bpmn:extensionElements>\n")


def _render(code: str, name: str, deadline: Decimal, lanes: list[tuple[str, str, str]], nodes: list[_Node]) -> str:
    lane_h, pool_x, pool_y, lane_x = 140, 160, 80, 190
    size = {"start": (36, 36), "task": (100, 80), "end": (36, 36)}
    pos: dict[str, tuple[int, int, int, int]] = {}
    x = lane_x + 80
    for n in nodes:
        w, h = size[n.kind]
        cy = pool_y + n.lane * lane_h + lane_h // 2
        pos[n.id] = (x, cy - h // 2, w, h)
        x += w + 70
    width = x - pool_x + 20
    flows = [(f"flow_{a.id}_{b.id}", a.id, b.id) for a, b in zip(nodes, nodes[1:], strict=False)]
    outgoing = {s: f for f, s, _ in flows}
    incoming = {t: f for f, _, t in flows}
    name_attr = quoteattr(name)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
           'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
           'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
           f'id="Definitions_{code}" targetNamespace="http://bpmn.io/schema/bpmn" exporter="motcua" '
           'exporterVersion="1.0">',
           f'  <bpmn:collaboration id="Collaboration_{code}">',
           f'    <bpmn:participant id="Participant_{code}" name={name_attr} processRef="{code}" />',
           '  </bpmn:collaboration>',
           f'  <bpmn:process id="{code}" name={name_attr} isExecutable="true">',
           _props_xml({"deadline_days": str(deadline)}, "    ").rstrip("\n"),
           f'    <bpmn:laneSet id="LaneSet_{code}">']
    for i, (level, role, lane_name) in enumerate(lanes):
        out.append(f'      <bpmn:lane id="lane_{level}_{role}" name={quoteattr(lane_name)}>')
        out.append(_props_xml({"level": level, "role": role}, "        ").rstrip("\n"))
        out += [f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>" for n in nodes if n.lane == i]
        out.append("      </bpmn:lane>")
    out.append("    </bpmn:laneSet>")
    tags = {"start": "startEvent", "task": "userTask", "end": "endEvent"}
    for n in nodes:
        out.append(f'    <bpmn:{tags[n.kind]} id="{n.id}" name={quoteattr(n.name)}>')
        if n.props:
            out.append(_props_xml(n.props, "      ").rstrip("\n"))
        if n.id in incoming:
            out.append(f"      <bpmn:incoming>{incoming[n.id]}</bpmn:incoming>")
        if n.id in outgoing:
            out.append(f"      <bpmn:outgoing>{outgoing[n.id]}</bpmn:outgoing>")
        out.append(f"    </bpmn:{tags[n.kind]}>")
    for fid, s, t in flows:
        out.append(f'    <bpmn:sequenceFlow id="{fid}" sourceRef="{s}" targetRef="{t}" />')
    out.append("  </bpmn:process>")
    out.append(f'  <bpmndi:BPMNDiagram id="BPMNDiagram_{code}">')
    out.append(f'    <bpmndi:BPMNPlane id="BPMNPlane_{code}" bpmnElement="Collaboration_{code}">')
    out.append(f'      <bpmndi:BPMNShape id="Participant_{code}_di" bpmnElement="Participant_{code}" '
               f'isHorizontal="true">')
    out.append(f'        <dc:Bounds x="{pool_x}" y="{pool_y}" width="{width}" height="{lane_h * len(lanes)}" />')
    out.append("      </bpmndi:BPMNShape>")
    for i, (level, role, _n) in enumerate(lanes):
        out.append(f'      <bpmndi:BPMNShape id="lane_{level}_{role}_di" bpmnElement="lane_{level}_{role}" '
                   f'isHorizontal="true">')
        out.append(f'        <dc:Bounds x="{lane_x}" y="{pool_y + i * lane_h}" width="{width - (lane_x - pool_x)}" '
                   f'height="{lane_h}" />')
        out.append("      </bpmndi:BPMNShape>")
    for n in nodes:
        x, y, w, h = pos[n.id]
        out.append(f'      <bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}">')
        out.append(f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />')
        if n.kind != "task":
            out.append(f'        <bpmndi:BPMNLabel>\n          <dc:Bounds x="{x - 27}" y="{y + h + 5}" width="90" '
                       f'height="27" />\n        </bpmndi:BPMNLabel>')
        out.append("      </bpmndi:BPMNShape>")
    for fid, s, t in flows:
        sx, sy, sw, sh = pos[s]
        tx, ty, tw, th = pos[t]
        x1, y1, x2, y2 = sx + sw, sy + sh // 2, tx, ty + th // 2
        points = [(x1, y1), (x2, y2)] if y1 == y2 else [(x1, y1), ((x1 + x2) // 2, y1), ((x1 + x2) // 2, y2),
                                                        (x2, y2)]
        out.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">')
        out += [f'        <di:waypoint x="{px}" y="{py}" />' for px, py in points]
        out.append("      </bpmndi:BPMNEdge>")
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>", ""]
    return "\n".join(out)
