"""Check the shipped procedures: bpmn/*.bpmn, processes/*.toml and processes/forms/*.form.json.

Run `.venv/bin/python tools/check_content.py` from the repository root. For every diagram it
1. parses it with SpiffBpmnParser and the XSD validator on;
2. checks the conventions of docs/process-design.md with lxml (lanes with level/role, user tasks with
   a name, a lane and a numeric deadline_days, forms that exist, decision gateways with a default
   flow, end events with a result, the catalog entry, full diagram interchange);
3. runs the process with SpiffWorkflow: "approve" at every user task must reach a result=approved end
   event, "refuse" at any deciding task a result=refused one, and one "supplement" must come back;
4. adds up deadline_days along the longest path and compares it with the legal limit.
It prints "OK <code>" or the problems, and exits 1 when there is any problem.

This is the content authors' own check; the product's validator is engine/deploy.py.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {
    "bpmn": BPMN,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
LEVELS = {"province", "district", "commune"}
ROLES = {"clerk", "specialist", "head", "leader"}
OUTCOMES = {"approve", "refuse", "supplement"}
RESULTS = {"approved", "refused"}
CATALOG_KEYS = {"code", "name", "field", "level", "bpmn", "deadline_days", "fee", "online_level",
                "legal_basis", "where_to_submit", "description", "documents"}
DOCUMENT_KEYS = {"code", "name", "copies", "required"}
ONLINE_LEVELS = {"full", "partial", "none"}
FLOW_NODES = {"startEvent", "endEvent", "userTask", "manualTask", "task", "scriptTask", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "intermediateCatchEvent", "intermediateThrowEvent",
              "boundaryEvent", "callActivity", "subProcess", "eventBasedGateway"}
USER_TASKS = {"userTask", "manualTask", "task"}
SIZES = {"userTask": (100, 80), "startEvent": (36, 36), "endEvent": (36, 36), "exclusiveGateway": (50, 50)}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)
FORM_TYPES = {"textfield", "textarea", "number", "select", "radio", "checkbox", "datetime", "checklist",
              "taglist", "text", "group", "button", "separator", "spacer"}
OUTCOME_VALUE = re.compile(r"""outcome\s*==\s*["'](\w+)["']""")


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def props(el: etree._Element | None) -> dict[str, str]:
    if el is None:
        return {}
    path = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    return {p.get("name"): p.get("value", "") for p in el.findall(path, NS)}


def number(text: str | None) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and value >= 0 else None


def form_fields(schema: dict) -> list[dict]:
    out = []
    for comp in schema.get("components", []):
        if comp.get("key"):
            out.append(comp)
        out.extend(form_fields(comp))
    return out


def check_form(name: str, problems: list[str]) -> dict | None:
    path = ROOT / "processes" / "forms" / f"{name}.form.json"
    if not path.exists():
        problems.append(f"form '{name}' does not exist ({path.relative_to(ROOT)})")
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        problems.append(f"{path.name}: not JSON: {e}")
        return None
    components = schema.get("components")
    if schema.get("type") != "default" or not schema.get("id") or not isinstance(components, list):
        problems.append(f"{path.name}: needs type 'default', an id and a components list")
    for comp in form_fields(schema):
        key, kind = comp["key"], comp.get("type")
        if kind not in FORM_TYPES:
            problems.append(f"{path.name}: field '{key}' has unknown type '{kind}'")
        if key == "typename" or not SNAKE.match(key):
            problems.append(f"{path.name}: field key '{key}' must be snake_case and not 'typename'")
        if not comp.get("label"):
            problems.append(f"{path.name}: field '{key}' has no label")
        if kind in {"select", "radio"} and not comp.get("values"):
            problems.append(f"{path.name}: {kind} '{key}' has no values")
    return schema


def outcome_values(schema: dict | None) -> set[str] | None:
    """Values of the form's required outcome select/radio, or None when it has none."""
    for comp in form_fields(schema or {}):
        if comp["key"] == "outcome" and comp.get("type") in {"select", "radio"}:
            if (comp.get("validate") or {}).get("required"):
                return {str(v.get("value")) for v in comp.get("values", [])}
    return None


class Diagram:
    """One parsed bpmn file plus the lookups the checks need."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = etree.parse(str(path)).getroot()
        self.proc = self.root.find("bpmn:process", NS)
        self.nodes = {el.get("id"): el for el in self.proc
                      if isinstance(el.tag, str) and local(el) in FLOW_NODES}
        self.flows = {el.get("id"): el for el in self.proc.findall("bpmn:sequenceFlow", NS)}
        self.lanes = self.proc.findall("bpmn:laneSet/bpmn:lane", NS)
        self.lane_of: dict[str, list[etree._Element]] = {}
        for lane in self.lanes:
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                self.lane_of.setdefault((ref.text or "").strip(), []).append(lane)
        self.out: dict[str, list[etree._Element]] = {}
        for f in self.flows.values():
            self.out.setdefault(f.get("sourceRef"), []).append(f)

    def kind(self, eid: str) -> str:
        return local(self.nodes[eid])


def check_structure(d: Diagram, problems: list[str]) -> Decimal | None:
    root, proc = d.root, d.proc
    for prefix, uri in NS.items():
        if root.nsmap.get(prefix) != uri:
            problems.append(f"definitions must declare xmlns:{prefix}=\"{uri}\"")
    if root.get("exporter") != "bpmn-js" or root.get("exporterVersion") != "17.11.1":
        problems.append('definitions need exporter="bpmn-js" exporterVersion="17.11.1"')
    participants = root.findall("bpmn:collaboration/bpmn:participant", NS)
    if len(participants) != 1 or participants[0].get("processRef") != proc.get("id"):
        problems.append("need one bpmn:collaboration with one participant whose processRef is the process")
    if proc.get("id") != d.path.stem:
        problems.append(f"process id '{proc.get('id')}' differs from the file name '{d.path.stem}'")
    if not proc.get("name") or not VIETNAMESE.search(proc.get("name")):
        problems.append("the process needs a Vietnamese name")
    deadline = number(props(proc).get("deadline_days"))
    if deadline is None:
        problems.append("process property deadline_days is missing or not a number")
    if not d.lanes:
        problems.append("the process has no bpmn:laneSet with lanes")
    for lane in d.lanes:
        lp = props(lane)
        if lp.get("level") not in LEVELS or lp.get("role") not in ROLES:
            problems.append(f"lane {lane.get('id')}: level/role properties must be one of {sorted(LEVELS)} / "
                            f"{sorted(ROLES)}, got {lp.get('level')!r}/{lp.get('role')!r}")
        if not VIETNAMESE.search(lane.get("name") or ""):
            problems.append(f"lane {lane.get('id')} needs a Vietnamese name")
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            if (ref.text or "").strip() not in d.nodes:
                problems.append(f"lane {lane.get('id')} lists unknown node '{ref.text}'")
    for eid, el in d.nodes.items():
        kind = local(el)
        lanes = d.lane_of.get(eid, [])
        if len(lanes) != 1:
            problems.append(f"{kind} {eid} is in {len(lanes)} lanes (must be exactly one)")
        if kind not in {"startEvent", "endEvent", "userTask", "exclusiveGateway"}:
            problems.append(f"{eid}: element {kind} is not used by these conventions")
        if kind in USER_TASKS:
            check_user_task(d, el, lanes[0] if lanes else None, problems)
        elif kind == "endEvent" and props(el).get("result") not in RESULTS:
            problems.append(f"end event {eid} needs property result = approved or refused")
        elif kind == "exclusiveGateway":
            check_gateway(d, el, problems)
        if kind != "startEvent" and not any(f.get("targetRef") == eid for f in d.flows.values()):
            problems.append(f"{eid} has no incoming sequence flow")
        if kind != "endEvent" and not d.out.get(eid):
            problems.append(f"{eid} has no outgoing sequence flow")
    for f in d.flows.values():
        for attr in ("sourceRef", "targetRef"):
            if f.get(attr) not in d.nodes:
                problems.append(f"sequence flow {f.get('id')}: {attr} '{f.get(attr)}' does not exist")
    check_conventions(d, problems)
    return deadline


def check_user_task(d: Diagram, el: etree._Element, lane: etree._Element | None, problems: list[str]) -> None:
    eid, p = el.get("id"), props(el)
    lp = props(lane)
    if not el.get("name") or not VIETNAMESE.search(el.get("name")):
        problems.append(f"user task {eid} needs a Vietnamese name")
    if not SNAKE.match(eid):
        problems.append(f"user task id '{eid}' should be a readable snake_case id")
    level, role = p.get("level") or lp.get("level"), p.get("role") or lp.get("role")
    if level not in LEVELS or role not in ROLES:
        problems.append(f"user task {eid} has no valid level/role (lane or own properties): {level}/{role}")
    if number(p.get("deadline_days")) is None:
        problems.append(f"user task {eid} needs a numeric deadline_days")
    if p.get("form"):
        check_form(p["form"], problems)
    status = p.get("status_code")
    if status and (not status.isdigit() or not 1 <= int(status) <= 10):
        problems.append(f"user task {eid}: status_code '{status}' is not 1–10")
    if p.get("supplement", "true") not in {"true", "false"}:
        problems.append(f"user task {eid}: supplement must be 'true' or 'false'")


def check_gateway(d: Diagram, el: etree._Element, problems: list[str]) -> None:
    eid = el.get("id")
    outs = d.out.get(eid, [])
    if len(outs) < 2:
        return  # a merge gateway
    default = el.get("default")
    if default not in {f.get("id") for f in outs}:
        problems.append(f"gateway {eid} needs a default flow (the approve path)")
    used: set[str] = set()
    for f in outs:
        cond = f.find("bpmn:conditionExpression", NS)
        if f.get("id") == default:
            continue
        if cond is None or not (cond.text or "").strip():
            problems.append(f"flow {f.get('id')} out of {eid} has no condition and is not the default")
            continue
        try:
            ast.parse(cond.text.strip(), mode="eval")
        except SyntaxError as e:
            problems.append(f"flow {f.get('id')}: condition is not a Python expression: {e}")
        used |= set(OUTCOME_VALUE.findall(cond.text))
    if not used <= OUTCOMES:
        problems.append(f"gateway {eid} tests unknown outcome values {sorted(used - OUTCOMES)}")
    # the deciding task: the nearest user task upstream through gateways
    deciders = upstream_tasks(d, eid)
    for task_id in deciders:
        form = props(d.nodes[task_id]).get("form")
        values = outcome_values(check_form(form, []) if form else None)
        if values is None:
            problems.append(f"user task {task_id} decides at {eid}, but its form has no required outcome")
        elif not (used | {"approve"}) <= values or not values <= OUTCOMES:
            problems.append(f"form of {task_id}: outcome values {sorted(values)} do not cover {sorted(used)}")


def upstream_tasks(d: Diagram, node: str) -> set[str]:
    found, stack, seen = set(), [node], {node}
    while stack:
        current = stack.pop()
        for f in d.flows.values():
            src = f.get("sourceRef")
            if f.get("targetRef") != current or src in seen or src not in d.nodes:
                continue
            seen.add(src)
            if d.kind(src) in USER_TASKS:
                found.add(src)
            elif d.kind(src) == "exclusiveGateway" and len(d.out.get(src, [])) > 1:
                stack.append(src)
    return found


def check_conventions(d: Diagram, problems: list[str]) -> None:
    tasks = {eid: el for eid, el in d.nodes.items() if local(el) in USER_TASKS}
    starts = [s.get("id") for s in d.proc.findall("bpmn:startEvent", NS)]
    first = [f.get("targetRef") for s in starts for f in d.out.get(s, [])]
    while first and d.kind(first[0]) == "exclusiveGateway":
        first = [f.get("targetRef") for f in d.out.get(first[0], [])]
    if not first or props(lanes_of(d, first[0])).get("level") != "commune":
        problems.append("the first user task must be at the commune")
    supplement = [eid for eid, el in tasks.items() if props(el).get("supplement") == "true"]
    if len(supplement) != 1:
        problems.append(f"expected one supplement=true task, found {supplement}")
    for eid in supplement:
        p = {**props(lanes_of(d, eid)), **props(tasks[eid])}
        if (p.get("level"), p.get("role")) != ("commune", "clerk"):
            problems.append(f"supplement task {eid} must be a commune clerk task")
    finals = [eid for eid, el in tasks.items() if props(el).get("status_code") == "10"]
    if "return_result" not in finals or tasks["return_result"].get("name") != "Trả kết quả cho công dân":
        problems.append("the approve path must end with return_result 'Trả kết quả cho công dân' "
                        "(status_code 10)")
    for eid in finals:
        p = {**props(lanes_of(d, eid)), **props(tasks[eid])}
        if (p.get("level"), p.get("role")) != ("commune", "clerk"):
            problems.append(f"return step {eid} must be a commune clerk task")
        if not any(d.kind(f.get("targetRef")) == "endEvent" for f in d.out.get(eid, [])):
            problems.append(f"return step {eid} must lead straight to an end event")
    if not any(props(el).get("status_code") == "9" for el in tasks.values()):
        problems.append("no task sets status_code 9 (Đã xử lý xong) on the last processing step")


def lanes_of(d: Diagram, eid: str) -> etree._Element | None:
    lanes = d.lane_of.get(eid, [])
    return lanes[0] if lanes else None


def check_di(d: Diagram, problems: list[str]) -> None:
    plane = d.root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if plane is None:
        problems.append("no bpmndi:BPMNDiagram/BPMNPlane")
        return
    shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}

    def box(eid: str) -> tuple[float, float, float, float] | None:
        shape = shapes.get(eid)
        b = shape.find("dc:Bounds", NS) if shape is not None else None
        if b is None:
            problems.append(f"{eid} has no BPMNShape with dc:Bounds")
            return None
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    participant = d.root.find("bpmn:collaboration/bpmn:participant", NS)
    pbox = box(participant.get("id")) if participant is not None else None
    if participant is not None and shapes.get(participant.get("id")) is not None:
        if shapes[participant.get("id")].get("isHorizontal") != "true":
            problems.append("the participant shape must be isHorizontal=\"true\"")
    lane_boxes = {}
    for lane in d.lanes:
        b = box(lane.get("id"))
        if b is None:
            continue
        lane_boxes[lane.get("id")] = b
        if b[3] < 120:
            problems.append(f"lane {lane.get('id')} is {b[3]:g} high (at least 120)")
        if pbox and not inside(b, pbox):
            problems.append(f"lane {lane.get('id')} lies outside the participant")
    for eid, el in d.nodes.items():
        b = box(eid)
        if b is None:
            continue
        want = SIZES.get(local(el))
        if want and (b[2], b[3]) != want:
            problems.append(f"{eid} is {b[2]:g}×{b[3]:g}, bpmn-js draws {want[0]}×{want[1]}")
        lane = lanes_of(d, eid)
        if lane is not None and lane.get("id") in lane_boxes and not inside(b, lane_boxes[lane.get("id")]):
            problems.append(f"{eid} is drawn outside its lane {lane.get('id')}")
    for fid, f in d.flows.items():
        edge = edges.get(fid)
        points = edge.findall("di:waypoint", NS) if edge is not None else []
        if len(points) < 2:
            problems.append(f"sequence flow {fid} has no BPMNEdge with at least two waypoints")
            continue
        xy = [(float(p.get("x")), float(p.get("y"))) for p in points]
        for (ax, ay), (bx, by) in zip(xy, xy[1:], strict=False):
            if ax != bx and ay != by:
                problems.append(f"sequence flow {fid} has a diagonal segment")
        for point, node in ((xy[0], f.get("sourceRef")), (xy[-1], f.get("targetRef"))):
            b = shapes.get(node)
            nb = b.find("dc:Bounds", NS) if b is not None else None
            bounds = tuple(float(nb.get(k)) for k in ("x", "y", "width", "height")) if nb is not None else ()
            if bounds and not on_border(point, bounds):
                problems.append(f"sequence flow {fid} does not touch {node}")


def inside(b: tuple, outer: tuple) -> bool:
    return b[0] >= outer[0] and b[1] >= outer[1] and b[0] + b[2] <= outer[0] + outer[2] \
        and b[1] + b[3] <= outer[1] + outer[3]


def on_border(p: tuple, b: tuple, slack: float = 2) -> bool:
    x, y = p
    near_x = b[0] - slack <= x <= b[0] + b[2] + slack
    near_y = b[1] - slack <= y <= b[1] + b[3] + slack
    return near_x and near_y


def longest_path(d: Diagram) -> Decimal:
    """Working days on the slowest path from a start event; rework loops are counted once."""
    weight = {eid: number(props(el).get("deadline_days")) or Decimal(0)
              for eid, el in d.nodes.items() if local(el) in USER_TASKS}

    def walk(node: str, stack: frozenset) -> Decimal:
        best = Decimal(0)
        for f in d.out.get(node, []):
            nxt = f.get("targetRef")
            if nxt not in stack:
                best = max(best, walk(nxt, stack | {nxt}))
        return best + weight.get(node, Decimal(0))

    starts = [s.get("id") for s in d.proc.findall("bpmn:startEvent", NS)]
    return max((walk(s, frozenset({s})) for s in starts), default=Decimal(0))


def check_catalog(d: Diagram, deadline: Decimal | None, problems: list[str]) -> None:
    code = d.path.stem
    path = ROOT / "processes" / f"{code}.toml"
    if not path.exists():
        problems.append(f"no catalog entry processes/{code}.toml")
        return
    with path.open("rb") as fh:
        entry = tomllib.load(fh)
    if set(entry) != CATALOG_KEYS:
        missing, extra = sorted(CATALOG_KEYS - set(entry)), sorted(set(entry) - CATALOG_KEYS)
        problems.append(f"{path.name}: keys must be exactly {sorted(CATALOG_KEYS)}; "
                        f"missing {missing}, extra {extra}")
    if entry.get("code") != code or entry.get("bpmn") != f"bpmn/{code}.bpmn":
        problems.append(f"{path.name}: code/bpmn must be '{code}' / 'bpmn/{code}.bpmn'")
    if entry.get("level") not in LEVELS:
        problems.append(f"{path.name}: level must be one of {sorted(LEVELS)}")
    if entry.get("online_level") not in ONLINE_LEVELS:
        problems.append(f"{path.name}: online_level must be one of {sorted(ONLINE_LEVELS)}")
    if deadline is not None and number(entry.get("deadline_days")) != deadline:
        problems.append(f"{path.name}: deadline_days {entry.get('deadline_days')} differs from the diagram's "
                        f"{deadline}")
    deciding = {props(lanes_of(d, eid)).get("level") for eid, el in d.nodes.items()
                if props(el).get("status_code") == "9"}
    if entry.get("level") not in deciding:
        problems.append(f"{path.name}: level '{entry.get('level')}' is not the level of the deciding step "
                        f"{sorted(x for x in deciding if x)}")
    for doc in entry.get("documents", []):
        if set(doc) != DOCUMENT_KEYS or not isinstance(doc.get("required"), bool):
            problems.append(f"{path.name}: document {doc.get('code')} needs exactly {sorted(DOCUMENT_KEYS)}")


def run(spec, choose) -> tuple[str | None, list[str]]:
    """Run to the end; choose(task_id, visits) gives the outcome. Returns (end event id, task trail)."""
    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    trail: list[str] = []
    for _ in range(200):
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        task = ready[0]
        bpmn_id = task.task_spec.bpmn_id
        trail.append(bpmn_id)
        task.task_spec.add_data_from_form(task, {"outcome": choose(bpmn_id, trail.count(bpmn_id))})
        task.run()
        wf.do_engine_steps()
    if not wf.is_completed():
        return None, trail
    ends = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
            if type(t.task_spec).__name__ == "EndEvent" and t.task_spec.bpmn_id]
    return (ends[0] if ends else None), trail


def check_runs(d: Diagram, problems: list[str]) -> list[str]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(d.path)])
    spec = parser.get_spec(d.proc.get("id"))
    result = {eid: props(el).get("result") for eid, el in d.nodes.items() if local(el) == "endEvent"}
    end, trail = run(spec, lambda tid, n: "approve")
    if result.get(end) != "approved":
        problems.append(f"approving every task ends at {end!r}, not a result=approved end event ({trail})")
    deciders = sorted({t for g, el in d.nodes.items() if local(el) == "exclusiveGateway"
                       for t in upstream_tasks(d, g)},
                      key=lambda t: trail.index(t) if t in trail else len(trail))
    for decider in deciders:
        values = outcome_values(check_form(props(d.nodes[decider]).get("form", ""), [])) or set()
        if "refuse" in values:
            end, t = run(spec, lambda tid, n, x=decider: "refuse" if tid == x else "approve")
            if result.get(end) != "refused":
                problems.append(f"refusing at {decider} ends at {end!r}, not a result=refused end ({t})")
        if "supplement" in values:
            end, t = run(spec, lambda tid, n, x=decider: "supplement" if tid == x and n == 1 else "approve")
            if result.get(end) != "approved" or t.count(decider) != 2:
                problems.append(f"a supplement at {decider} does not come back and finish ({t})")
    return trail


def check(path: Path) -> list[str]:
    problems: list[str] = []
    try:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_files([str(path)])
        etree.parse(str(path))
    except Exception as e:  # noqa: BLE001 — report, keep checking the other files
        return [f"does not parse: {e}"]
    d = Diagram(path)
    if d.proc is None:
        return ["no bpmn:process"]
    deadline = check_structure(d, problems)
    check_di(d, problems)
    check_catalog(d, deadline, problems)
    if problems:
        return problems
    try:
        trail = check_runs(d, problems)
    except Exception as e:  # noqa: BLE001
        return [f"SpiffWorkflow cannot run it: {type(e).__name__}: {e}"]
    total = longest_path(d)
    if deadline is not None and total > deadline:
        problems.append(f"the longest path takes {total} working days, more than the legal limit {deadline}")
    if not problems:
        steps = ", ".join(f"{t} {props(d.nodes[t]).get('deadline_days')}" for t in trail)
        print(f"OK {path.stem}: longest path {total.normalize():f} of {deadline.normalize():f} working days; "
              f"approve path: {steps}")
    return problems


def main() -> int:
    paths = sorted((ROOT / "bpmn").glob("*.bpmn"))
    if not paths:
        print("no bpmn/*.bpmn files")
        return 1
    failed = 0
    for path in paths:
        problems = check(path)
        if problems:
            failed += 1
            print(f"FAIL {path.stem}")
            for p in problems:
                print(f"  - {p}")
    codes = {p.stem for p in paths}
    for toml in sorted((ROOT / "processes").glob("*.toml")):
        if toml.stem not in codes:
            failed += 1
            print(f"FAIL {toml.name}: no bpmn/{toml.stem}.bpmn")
    for form in sorted((ROOT / "processes" / "forms").glob("*.form.json")):
        problems: list[str] = []
        check_form(form.name.removesuffix(".form.json"), problems)
        if problems:
            failed += 1
            print(f"FAIL {form.name}")
            for p in problems:
                print(f"  - {p}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
