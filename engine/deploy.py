"""Validate a procedure's BPMN and deploy it as a new immutable process version.

Every problem is reported with file, line and element id, never as a traceback: a process designer
must be able to fix the diagram from the message alone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import connectivity, inputs, messages, procedure_codes, workflow
from engine.errors import Conflict, Invalid
from engine.models import Level, Procedure, ProcessVersion, Role, User, WorkItem
from engine.sandbox import compile_check
from engine.status import STATUS

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

USER_TASK_TAGS = {"userTask", "manualTask", "task"}
# Elements a diagram may contain that motcua cannot execute; named clearly instead of failing later.
UNSUPPORTED = {"complexGateway": "cổng phức hợp", "transaction": "giao dịch",
               "businessRuleTask": "tác vụ quy tắc nghiệp vụ (DMN)", "choreography": "biểu đồ vũ đạo",
               "conversation": "hội thoại"}


@dataclass
class Problem:
    file: str
    line: int | None
    element_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 0}: {self.element_id or '-'}: {self.message}"


@dataclass
class Validation:
    """What validate() found: problems block deploying, warnings do not."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    process_id: str | None = None
    process_name: str | None = None
    deadline_days: Decimal | None = None
    nodes: dict[str, dict] = field(default_factory=dict)
    forms: dict[str, dict] = field(default_factory=dict)
    spec_json: str | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_json(self) -> dict:
        return {"valid": self.valid, "problems": [asdict(p) for p in self.problems],
                "warnings": [asdict(p) for p in self.warnings]}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def properties(el: etree._Element) -> dict[str, str]:
    """spiffworkflow:property name/value pairs directly inside the element's extensionElements."""
    return {p.get("name"): p.get("value", "") for p in
            el.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
            if p.get("name")}


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and value >= 0 else None


def _choose_process(root: etree._Element) -> etree._Element | None:
    processes = root.findall("bpmn:process", NS)
    refs = [p.get("processRef") for p in root.iterfind("bpmn:collaboration/bpmn:participant", NS)]
    for pid in refs:
        for proc in processes:
            if proc.get("id") == pid and proc.find("bpmn:startEvent", NS) is not None:
                return proc
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    return (executable or processes or [None])[0]


def validate(xml: bytes, filename: str, *, levels: Iterable[str], roles: Iterable[str],
             forms: Mapping[str, dict]) -> Validation:
    """All the checks of `motcua validate`; the caller supplies what exists (levels, roles, forms)."""
    result = Validation()
    levels, roles = set(levels), set(roles)

    def problem(el: etree._Element | None, message: str, element_id: str | None = None) -> None:
        eid = element_id if element_id is not None else (el.get("id", "") if el is not None else "")
        result.problems.append(Problem(filename, el.sourceline if el is not None else None, eid, message))

    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        result.problems.append(Problem(filename, e.lineno, "", f"XML sai cú pháp: {e.msg}"))
        return result
    if root.getroottree().docinfo.doctype:
        # SpiffWorkflow re-parses with entity expansion on; a diagram never needs a DTD.
        problem(root, "không cho phép khai báo DOCTYPE/ENTITY trong tệp BPMN")
        return result
    if etree.QName(root).namespace != BPMN or _local(root) != "definitions":
        problem(root, "không phải tệp BPMN 2.0: phần tử gốc phải là bpmn:definitions")
        return result
    by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN and _local(el) in UNSUPPORTED:
            problem(el, f"motcua chưa hỗ trợ {UNSUPPORTED[_local(el)]} ({_local(el)})")

    proc = _choose_process(root)
    if proc is None:
        problem(root, "tệp không có bpmn:process nào")
        return result
    result.process_id, result.process_name = proc.get("id"), proc.get("name") or proc.get("id")
    result.deadline_days = _decimal(properties(proc).get("deadline_days"))
    if result.deadline_days is None:
        problem(proc, "thiếu thuộc tính deadline_days của quy trình (thời hạn giải quyết theo luật, ngày làm "
                      "việc) hoặc giá trị không phải là số")

    _check_flows(proc, by_id, problem)
    connectivity.check(proc, problem)
    _collect_nodes(proc, result, levels, roles, forms, problem)
    _check_expressions(proc, problem)
    if result.problems:
        return result

    try:
        spec, subs = workflow.parse(xml, filename, result.process_id)
        result.spec_json = workflow.spec_json(spec, subs)
        _dry_run_start(spec, subs, result, filename, by_id)
    except ValidationException as e:
        eid = getattr(e, "id", "") or ""
        el = by_id.get(eid)
        line = getattr(e, "line_number", None) or (el.sourceline if el is not None else None)
        msg = str(e).split("\n")[0]
        result.problems.append(Problem(filename, int(line) if line else None, eid, msg))
    except Exception as e:  # noqa: BLE001 — anything Spiff raises becomes a problem, never a 500
        result.problems.append(Problem(filename, None, "", f"SpiffWorkflow không nạp được quy trình: {e}"))
    if result.valid:
        _warn_longest_path(proc, by_id, result)
    return result


def sample_start_data(process_id: str) -> dict:
    """What a reception seeds a new case with (engine.reception.start_processing), with sample values."""
    from engine.calendar import VN_TZ

    return {"case_code": "000.00.00.H99-260101-0001", "procedure": process_id, "documents_received": [],
            "received_at": datetime.now(VN_TZ).replace(microsecond=0).isoformat()}


def _dry_run_start(spec: Any, subs: dict, result: Validation, filename: str, by_id: dict) -> None:
    """Run the automatic start of the diagram (start scripts, first conditions and timer expressions) on
    sample data without storing anything: a diagram whose every reception would fail is refused here."""
    from engine.deadlines import default_script_engine

    try:
        workflow.dry_run(spec, subs, sample_start_data(result.process_id or ""), default_script_engine())
    except Exception as e:  # noqa: BLE001 — whatever the diagram raises is the designer's problem to read
        element, _name, detail = workflow.failure(e)
        el = by_id.get(element)
        result.problems.append(Problem(filename, el.sourceline if el is not None else None, element,
                                       f"quy trình không khởi động được khi chạy thử với dữ liệu mẫu: {detail}"))


def _check_flows(proc: etree._Element, by_id: dict, problem: Any) -> None:
    for flow in proc.iter(f"{{{BPMN}}}sequenceFlow"):
        for attr in ("sourceRef", "targetRef"):
            ref = flow.get(attr)
            if not ref or ref not in by_id:
                problem(flow, f"luồng có {attr} trỏ tới '{ref}', phần tử này không tồn tại")


def _collect_nodes(proc: etree._Element, result: Validation, levels: set, roles: set,
                   forms: Mapping[str, dict], problem: Any) -> None:
    lane_of: dict[str, etree._Element] = {}
    for lane in proc.iter(f"{{{BPMN}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = lane
    _check_lanes(proc, lane_of, levels, roles, problem)
    for el in proc.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
            continue
        tag, eid = _local(el), el.get("id")
        if not eid:
            continue
        props = properties(el)
        if tag in USER_TASK_TAGS:
            lane = lane_of.get(eid)
            lane_props = properties(lane) if lane is not None else {}
            level = props.get("level") or lane_props.get("level")
            role = props.get("role") or lane_props.get("role")
            name = el.get("name") or eid
            if (not level or not role) and lane is None:
                problem(el, f"bước '{name}' chưa có cấp/vai trò: đặt bước vào một làn có thuộc tính level và "
                            "role, hoặc khai báo trên chính bước")
            # What the step declares itself is its own problem; what it takes from its lane is the lane's.
            _check_level_role(el, props, levels, roles, problem)
            deadline = _decimal(props.get("deadline_days"))
            if deadline is None:
                problem(el, f"bước '{name}' cần deadline_days là một số (ngày làm việc, ví dụ 2 hoặc 0.5)")
            form = props.get("form") or None
            if form and form not in forms:
                problem(el, f"biểu mẫu '{form}' không tồn tại")
            elif form:
                result.forms[form] = forms[form]
            status = props.get("status_code")
            if status and (not status.isdigit() or int(status) not in STATUS):
                problem(el, f"status_code '{status}' không phải mã trạng thái của Cổng dịch vụ công quốc gia (1–10)")
            result.nodes[eid] = {
                "kind": "user_task", "name": name, "level": level, "role": role,
                "deadline_days": str(deadline) if deadline is not None else None, "form": form,
                "supplement": props.get("supplement", "").lower() == "true",
                "status_code": int(status) if status and status.isdigit() else None,
                "lane": lane.get("name") if lane is not None else None,
                # Case file (engine.step_outputs): `prefill` "field=step.field; …", `attachments` optional|required
                "prefill": props.get("prefill") or None, "attachments": props.get("attachments") or None,
            }
        elif tag == "endEvent":
            res = props.get("result")
            if res and res not in {"approved", "refused"}:
                problem(el, f"kết quả '{res}' của sự kiện kết thúc phải là 'approved' hoặc 'refused'")
            result.nodes[eid] = {"kind": "end", "name": el.get("name") or eid, "result": res,
                                 "status_code": int(props["status_code"])
                                 if props.get("status_code", "").isdigit() else None}
        messages.collect(el, tag, props, result.nodes, problem)  # liên thông send/receive (engine.messages)


def _check_level_role(el: etree._Element, props: Mapping[str, str], levels: set, roles: set,
                      problem: Any) -> None:
    level, role = props.get("level"), props.get("role")
    if level and level not in levels:
        problem(el, f"cấp '{level}' không tồn tại (các cấp: {', '.join(sorted(levels))})")
    if role and role not in roles:
        problem(el, f"vai trò '{role}' không tồn tại (các vai trò: {', '.join(sorted(roles))})")


def _check_lanes(proc: etree._Element, lane_of: Mapping[str, etree._Element], levels: set, roles: set,
                 problem: Any) -> None:
    """A lane's level and role, reported on the lane's own line and id: that is where the designer fixes them
    (once), not on each step inside it."""
    needs: dict[str, dict[str, set[str]]] = {}  # lane id -> step name -> what the step takes from its lane
    for el in proc.iter(*(f"{{{BPMN}}}{tag}" for tag in USER_TASK_TAGS)):
        lane, props = lane_of.get(el.get("id", "")), properties(el)
        if lane is not None:
            needs.setdefault(lane.get("id", ""), {})[el.get("name") or el.get("id", "")] = \
                {key for key in ("level", "role") if not props.get(key)}
    for lane in proc.iter(f"{{{BPMN}}}lane"):
        props = properties(lane)
        _check_level_role(lane, props, levels, roles, problem)
        steps = needs.get(lane.get("id", ""), {})
        for key in ("level", "role"):
            lacking = ", ".join(f"'{name}'" for name, keys in steps.items() if key in keys)
            if not props.get(key) and lacking:
                what = "cấp" if key == "level" else "vai trò"
                problem(lane, f"làn '{lane.get('name') or lane.get('id')}' chưa có thuộc tính {key} ({what}) cho "
                              f"bước {lacking}: khai báo trên làn hoặc trên chính bước")


def _check_expressions(proc: etree._Element, problem: Any) -> None:
    checks = [("script", "exec"), ("conditionExpression", "eval"), ("timeDate", "eval"),
              ("timeDuration", "eval"), ("timeCycle", "eval")]
    for tag, mode in checks:
        for el in proc.iter(f"{{{BPMN}}}{tag}"):
            source = (el.text or "").strip()
            if not source:
                continue
            error = compile_check(source, mode)
            if error:
                owner = el.getparent()
                while owner is not None and not owner.get("id"):
                    owner = owner.getparent()
                problem(el, f"{tag} không biên dịch được trong môi trường cách ly: {error}",
                        element_id=owner.get("id") if owner is not None else "")
    for tag in ("preScript", "postScript"):
        for el in proc.iter(f"{{{SPIFF}}}{tag}"):
            source = (el.text or "").strip()
            error = compile_check(source, "exec") if source else None
            if error:
                owner = el.getparent().getparent()
                problem(el, f"{tag} không biên dịch được trong môi trường cách ly: {error}",
                        element_id=owner.get("id", ""))


def _warn_longest_path(proc: etree._Element, by_id: dict, result: Validation) -> None:
    """Warn when the slowest path through the steps exceeds the procedure's legal limit."""
    if result.deadline_days is None:
        return
    succ: dict[str, list[str]] = {}
    for flow in proc.iter(f"{{{BPMN}}}sequenceFlow"):
        succ.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    weight = {eid: Decimal(n["deadline_days"] or 0) for eid, n in result.nodes.items() if n["kind"] == "user_task"}
    memo: dict[str, Decimal] = {}

    def longest(node: str, stack: frozenset) -> Decimal:
        if node in memo:
            return memo[node]
        best = Decimal(0)
        for nxt in succ.get(node, []):
            if nxt not in stack:  # rework loops are counted once
                best = max(best, longest(nxt, stack | {nxt}))
        memo[node] = best + weight.get(node, Decimal(0))
        return memo[node]

    starts = [el.get("id") for el in proc.findall("bpmn:startEvent", NS)]
    total = max((longest(s, frozenset({s})) for s in starts), default=Decimal(0))
    if total > result.deadline_days:
        result.warnings.append(Problem(
            "", proc.sourceline, proc.get("id"),
            f"các bước trên đường dài nhất mất {total} ngày làm việc, vượt thời hạn luật định "
            f"{result.deadline_days} ngày"))


def known_levels_roles(session: Session) -> tuple[set[str], set[str]]:
    return (set(session.scalars(select(Level.code))), set(session.scalars(select(Role.code))))


def deploy(session: Session, xml: bytes, filename: str, *, forms: Mapping[str, dict],
           procedure_code: str | None = None, catalog: dict | None = None,
           user: User | None = None) -> ProcessVersion:
    """Validate, then store a new immutable version. Raises Invalid (with the problems) and stores nothing."""
    levels, roles = known_levels_roles(session)
    v = validate(xml, filename, levels=levels, roles=roles, forms=forms)
    if not v.valid:
        raise Invalid.of("bpmn_problems", file=filename, count=len(v.problems), details=v.as_json())
    unknown = messages.unknown_partners(session, v.nodes)
    if unknown:
        raise Invalid.of("bpmn_partners_unknown",
                         file=filename, partners=", ".join(p for _e, p in unknown),
                         details={"problems": [{"file": filename, "line": None, "element_id": eid,
                                             "message": f"hệ thống liên thông '{p}' chưa đăng ký (motcua partner add)"}
                                            for eid, p in unknown]})
    _check_names(v, procedure_code or (catalog or {}).get("code"), (catalog or {}).get("name"))
    code = procedure_code or (catalog or {}).get("code") or v.process_id
    proc = session.scalar(select(Procedure).where(Procedure.code == code))
    if proc is None:
        catalog = catalog or {}
        proc = Procedure(code=code, name=catalog.get("name") or v.process_name, field=catalog.get("field", ""),
                         level_code=catalog.get("level"), deadline_days=v.deadline_days,
                         catalog={k: val for k, val in catalog.items() if k not in {"code", "name"}})
        _insert_or_lose(session, proc, code, 1)
    latest = session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.procedure_id == proc.id))
    pv = ProcessVersion(
        procedure_id=proc.id, version=(latest or 0) + 1, process_id=v.process_id,
        bpmn_xml=xml.decode("utf-8"), bpmn_sha256=hashlib.sha256(xml).hexdigest(), spec_json=v.spec_json,
        nodes=v.nodes, forms=v.forms, deadline_days=v.deadline_days,
        warnings=[asdict(w) for w in v.warnings], deployed_by_id=user.id if user else None)
    proc.deadline_days = v.deadline_days
    _insert_or_lose(session, pv, code, pv.version)
    return pv


def _insert_or_lose(session: Session, row: Procedure | ProcessVersion, code: str, version: int) -> None:
    """Insert the procedure or its next version. Two deploys of one procedure at once (PostgreSQL does not
    serialise them) both read the same latest version; the unique (procedure, version) and procedure code
    let exactly one commit, and the other gets a 409 naming the version that won and who deployed it."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as e:
        won = newest_deploy(session, code)
        if won is None or won[0] < version:  # not a concurrent deploy: a real fault, let it surface
            raise
        version, username, full_name = won
        who = full_name or username or "hệ thống"
        raise Conflict.of("deploy_concurrent",
                          code=code, who=who, version=version,
                          details={"procedure": code, "version": version, "deployed_by": username}) from e


def newest_deploy(session: Session, code: str) -> tuple[int, str | None, str | None] | None:
    """(version, username, full name) of the procedure's newest version, as committed right now."""
    row = session.execute(select(ProcessVersion.version, User.username, User.full_name)
                          .join(Procedure, Procedure.id == ProcessVersion.procedure_id)
                          .outerjoin(User, User.id == ProcessVersion.deployed_by_id)
                          .where(Procedure.code == code).order_by(ProcessVersion.version.desc()).limit(1)).first()
    return (row[0], row[1], row[2]) if row is not None else None
def _check_names(v: Validation, code: str | None, name: str | None) -> None:
    """What the diagram names must fit the columns it is copied into (a step's name into every work item)."""
    check = inputs.Checker()
    check.text("procedure", code or v.process_id, Procedure.code)
    if not procedure_codes.is_code(code or v.process_id):  # the one rule, for the CLI, API and designer alike
        check.add("procedure", procedure_codes.CODE_RULE)
    check.text("process_id", v.process_id, ProcessVersion.process_id)
    check.text("name", name or v.process_name or "", Procedure.name)
    for eid, node in v.nodes.items():
        check.text(f"{eid}.id", eid, WorkItem.task_bpmn_id)
        check.text(f"{eid}.name", node.get("name") or "", WorkItem.name)
        if node.get("form"):
            check.text(f"{eid}.form", node["form"], WorkItem.form)
    check.json("forms", v.forms)
    check.done("bpmn_names_invalid")


def latest_version(session: Session, procedure_id: int) -> ProcessVersion | None:
    return session.scalar(select(ProcessVersion).where(ProcessVersion.procedure_id == procedure_id)
                          .order_by(ProcessVersion.version.desc()).limit(1))


def latest_version_numbers(session: Session) -> dict[int, int]:
    """Procedure id -> its newest version number, for every procedure at once (lists, not one query a row)."""
    rows = session.execute(select(ProcessVersion.procedure_id, func.max(ProcessVersion.version))
                           .group_by(ProcessVersion.procedure_id))
    return {pid: version for pid, version in rows}
