"""The process designer's services: drafts, validation with what exists in this deployment, deploying
new versions, comparing versions and a new-procedure template.

Only designers (and admins) design; the web layer calls `require_designer` before anything else."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import deploy as deploy_service
from engine import inputs, procedure_codes
from engine.catalog import load_forms
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Level, Procedure, ProcessDraft, ProcessVersion, Role, User, utcnow

log = logging.getLogger(__name__)

CODE_RE = procedure_codes.CODE_RE  # the one procedure-code rule (engine.procedure_codes)
FORM_NAME_RE = re.compile(r"^[a-z0-9_]{1,100}$")
MAX_BPMN_BYTES = 5 * 1024 * 1024
SEMANTIC_NAMESPACES = {deploy_service.BPMN}


def can_design(user: User | None) -> bool:
    return user is not None and user.can("designs")


def require_designer(user: User | None) -> None:
    if not can_design(user):
        raise Forbidden("chỉ người thiết kế quy trình hoặc quản trị hệ thống được dùng trình thiết kế")


def check_code(code: str) -> str:
    return procedure_codes.check_code(code)


# --- Listing -------------------------------------------------------------------------------------


@dataclass
class VersionInfo:
    version: int
    process_id: str
    deployed_at: datetime
    deployed_by: str | None
    deployed_by_name: str | None
    cases: int
    warnings: int
    sha256: str

    def as_json(self) -> dict:
        return {"version": self.version, "process_id": self.process_id, "deployed_at": self.deployed_at.isoformat(),
                "deployed_by": self.deployed_by, "cases": self.cases, "warnings": self.warnings}


@dataclass
class ProcedureInfo:
    code: str
    name: str
    versions: list[VersionInfo] = field(default_factory=list)
    draft_updated_at: datetime | None = None
    draft_updated_by: str | None = None

    @property
    def latest(self) -> VersionInfo | None:
        return self.versions[-1] if self.versions else None

    @property
    def has_draft(self) -> bool:
        return self.draft_updated_at is not None


def _case_counts(session: Session) -> dict[int, int]:
    """Cases per process version, in one GROUP BY."""
    rows = session.execute(select(Case.process_version_id, func.count())
                           .where(Case.process_version_id.is_not(None)).group_by(Case.process_version_id))
    return {vid: n for vid, n in rows}


def list_procedures(session: Session) -> list[ProcedureInfo]:
    """Every procedure with its versions (oldest first), who deployed each and when, cases per version,
    and drafts — including drafts of procedures that have never been deployed."""
    counts = _case_counts(session)
    users = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_(select(ProcessVersion.deployed_by_id).union(select(ProcessDraft.updated_by_id)))))}
    out: dict[str, ProcedureInfo] = {}
    for proc in session.scalars(select(Procedure).order_by(Procedure.code)):
        out[proc.code] = ProcedureInfo(proc.code, proc.name)
    rows = session.execute(select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.process_id,
                                  ProcessVersion.deployed_at, ProcessVersion.deployed_by_id, ProcessVersion.warnings,
                                  ProcessVersion.bpmn_sha256, Procedure.code)
                           .join(Procedure, Procedure.id == ProcessVersion.procedure_id)
                           .order_by(Procedure.code, ProcessVersion.version))
    for vid, version, pid, at, by, warnings, sha, code in rows:
        user = users.get(by)
        out[code].versions.append(VersionInfo(version, pid, at, user.username if user else None,
                                              user.full_name if user else None, counts.get(vid, 0),
                                              len(warnings or []), sha))
    for draft in session.scalars(select(ProcessDraft)):
        info = out.setdefault(draft.procedure_code, ProcedureInfo(draft.procedure_code, _draft_name(draft)))
        info.draft_updated_at = draft.updated_at
        user = users.get(draft.updated_by_id)
        info.draft_updated_by = user.username if user else None
    return sorted(out.values(), key=lambda p: p.code)


def _draft_name(draft: ProcessDraft) -> str:
    try:
        root = _parse(draft.bpmn_xml.encode("utf-8"))
        proc = root.find("bpmn:process", deploy_service.NS)
        return (proc.get("name") if proc is not None else None) or draft.procedure_code
    except etree.XMLSyntaxError:
        return draft.procedure_code


def procedure_versions(session: Session, code: str) -> ProcedureInfo:
    for info in list_procedures(session):
        if info.code == code:
            return info
    raise NotFound(f"thủ tục '{code}' không tồn tại")


def get_version(session: Session, code: str, version: int) -> ProcessVersion:
    version = inputs.integer("version", version, ProcessVersion.version, low=1)  # type: ignore[assignment]
    pv = session.scalar(select(ProcessVersion).join(Procedure, Procedure.id == ProcessVersion.procedure_id)
                        .where(Procedure.code == code, ProcessVersion.version == version))
    if pv is None:
        raise NotFound(f"thủ tục '{code}' không có phiên bản {version}")
    return pv


def latest(session: Session, code: str) -> ProcessVersion | None:
    proc = session.scalar(select(Procedure).where(Procedure.code == code))
    return deploy_service.latest_version(session, proc.id) if proc is not None else None


# --- Drafts --------------------------------------------------------------------------------------


def get_draft(session: Session, code: str) -> ProcessDraft | None:
    return session.scalar(select(ProcessDraft).where(ProcessDraft.procedure_code == code))


def _check_forms(forms: Any) -> dict[str, dict]:
    if forms is None:
        return {}
    if not isinstance(forms, Mapping):
        raise Invalid("forms phải là một đối tượng JSON: tên biểu mẫu -> lược đồ form-js")
    forms = inputs.json_data("forms", dict(forms))
    for name, schema in forms.items():
        if not isinstance(name, str) or not FORM_NAME_RE.fullmatch(name):
            raise Invalid(f"tên biểu mẫu '{name}' không hợp lệ (chữ thường không dấu, chữ số, '_')",
                          details={"form": name})
        if not isinstance(schema, Mapping) or not isinstance(schema.get("components", []), list):
            raise Invalid(f"biểu mẫu '{name}' không phải lược đồ form-js (cần danh sách components)",
                          details={"form": name})
    return {str(k): dict(v) for k, v in forms.items()}


def as_text(xml: bytes | str) -> bytes:
    """The upload as UTF-8 bytes. Other encodings an XML declaration names (UTF-16, latin-1, …) are
    re-serialised to UTF-8 so versions are stored as text; bytes lxml cannot read are kept as they are and
    validation reports them."""
    if isinstance(xml, str):
        return xml.encode("utf-8")
    if len(xml) > MAX_BPMN_BYTES:
        raise Invalid(f"tệp BPMN quá lớn ({len(xml)} byte; tối đa {MAX_BPMN_BYTES})")
    try:
        xml.decode("utf-8")
        return xml
    except UnicodeDecodeError:
        pass
    try:
        root = _parse(xml)
    except etree.XMLSyntaxError:
        return xml
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)


def save_draft(session: Session, user: User, code: str, xml: bytes | str, forms: Any = None) -> ProcessDraft:
    """Store (or overwrite) the procedure's draft; a draft may be invalid BPMN, but it must be UTF-8 text."""
    require_designer(user)
    check_code(code)
    data = as_text(xml)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("bản nháp phải là văn bản UTF-8") from None
    forms = _check_forms(forms)
    draft = get_draft(session, code)
    with _draft_race(session, code):
        if draft is None:
            draft = ProcessDraft(procedure_code=code, bpmn_xml=text, forms=forms)
            session.add(draft)
        draft.bpmn_xml, draft.forms = text, forms
        draft.updated_by_id, draft.updated_at = user.id, utcnow()
        session.flush()
    return draft


@contextmanager
def _draft_race(session: Session, code: str) -> Iterator[None]:
    """A draft another designer deployed or created at the same moment: 409 naming what won
    (PostgreSQL lets both read the draft; the second write then finds it gone or already there)."""
    try:
        with session.begin_nested():
            yield
    except (IntegrityError, StaleDataError) as e:
        draft = get_draft(session, code)
        if draft is not None:
            who = session.get(User, draft.updated_by_id) if draft.updated_by_id else None
            raise Conflict(f"bản nháp của thủ tục '{code}' vừa được {who.full_name if who else 'người khác'} lưu; "
                           "hãy tải lại trình thiết kế", details={"procedure": code, "draft_updated_by":
                                                                  who.username if who else None}) from e
        won = deploy_service.newest_deploy(session, code)
        if won is None:
            raise Conflict(f"bản nháp của thủ tục '{code}' vừa bị bỏ; hãy tải lại trình thiết kế",
                           details={"procedure": code}) from e
        raise Conflict(f"bản nháp của thủ tục '{code}' vừa được {won[2] or won[1] or 'người khác'} triển khai "
                       f"thành phiên bản {won[0]}; hãy tải lại trình thiết kế",
                       details={"procedure": code, "version": won[0], "deployed_by": won[1]}) from e


def available_forms(session: Session, code: str | None, extra: Mapping[str, dict] | None = None) -> dict[str, dict]:
    """Forms a diagram may reference: the repository's, overridden by the latest version's, overridden by
    the draft's (or `extra`, the forms sent with an upload)."""
    forms = dict(load_forms())
    if code:
        pv = latest(session, code)
        if pv is not None:
            forms.update(pv.forms or {})
        if extra is None:
            draft = get_draft(session, code)
            if draft is not None:
                forms.update(draft.forms or {})
    forms.update(extra or {})
    return forms


def org_choices(session: Session) -> dict[str, list[dict]]:
    """Levels (top first) and roles as {code, name}, for the editor's selects."""
    levels = session.scalars(select(Level).order_by(Level.rank))
    roles = session.scalars(select(Role).order_by(Role.code))
    return {"levels": [{"code": lv.code, "name": lv.name} for lv in levels],
            "roles": [{"code": r.code, "name": r.name} for r in roles if not r.designs]}


# --- Validate and deploy -------------------------------------------------------------------------


def _parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                                        huge_tree=False))


def validate(session: Session, xml: bytes | str, filename: str = "upload.bpmn", *, code: str | None = None,
             forms: Mapping[str, dict] | None = None) -> deploy_service.Validation:
    """The checks of `motcua validate` with this deployment's levels, roles and forms. Never raises on any
    bytes: whatever is wrong comes back as problems naming the element and line."""
    try:
        data = as_text(xml)
    except Invalid as e:
        return deploy_service.Validation(problems=[deploy_service.Problem(filename, None, "", e.message)])
    pre = _precheck(data, filename)
    if pre is not None:
        return pre
    levels, roles = deploy_service.known_levels_roles(session)
    try:
        return deploy_service.validate(data, filename, levels=levels, roles=roles,
                                       forms=available_forms(session, code, forms))
    except Exception as e:  # noqa: BLE001 — a designer gets a message, never a 500
        log.exception("validate failed on %s", filename)
        return deploy_service.Validation(problems=[deploy_service.Problem(
            filename, None, "", f"không kiểm tra được tệp: {type(e).__name__}: {e}")])


def _precheck(data: bytes, filename: str) -> deploy_service.Validation | None:
    """Refuse what BPMN never needs before anything else parses it: DTDs (entity tricks) and non-XML."""
    problem = None
    if not data.strip():
        problem = deploy_service.Problem(filename, None, "", "tệp rỗng: cần một tệp BPMN 2.0 (XML)")
    else:
        try:
            root = _parse(data)
        except etree.XMLSyntaxError:
            return None  # deploy.validate reports malformed XML with its line
        dtd = root.getroottree().docinfo
        if dtd.internalDTD is not None or dtd.doctype:
            problem = deploy_service.Problem(filename, 1, "",
                                             "tệp BPMN không được chứa khai báo DOCTYPE/ENTITY (bị từ chối vì an toàn)")
    return deploy_service.Validation(problems=[problem]) if problem else None


def deploy_xml(session: Session, user: User, xml: bytes | str, filename: str = "upload.bpmn", *,
               code: str | None = None, forms: Mapping[str, dict] | None = None) -> ProcessVersion:
    """Validate and store a new immutable version; raises Invalid with {valid, problems, warnings}."""
    require_designer(user)
    if code is not None:
        check_code(code)
    data = as_text(xml)
    v = validate(session, data, filename, code=code, forms=forms)
    if not v.valid:
        raise Invalid(f"{filename}: {len(v.problems)} lỗi", details=v.as_json())
    if code is None:
        code = v.process_id or ""
        if not CODE_RE.fullmatch(code):
            raise Invalid(f"mã quy trình '{code}' không dùng được làm mã thủ tục; hãy chỉ định ?procedure=MÃ",
                          details=v.as_json())
    all_forms = available_forms(session, code, forms)
    return deploy_service.deploy(session, data, filename, forms=all_forms, procedure_code=code, user=user)


def deploy_draft(session: Session, user: User, code: str) -> ProcessVersion:
    """Deploy the saved draft as the next version (its forms go with it) and discard the draft."""
    require_designer(user)
    draft = get_draft(session, code)
    if draft is None:
        raise NotFound(f"thủ tục '{code}' không có bản nháp")
    pv = deploy_xml(session, user, draft.bpmn_xml.encode("utf-8"), f"{code}.bpmn", code=code,
                    forms=draft.forms or {})
    session.delete(draft)
    session.flush()
    return pv


# --- Compare -------------------------------------------------------------------------------------


@dataclass
class Diff:
    added: list[str]
    removed: list[str]
    changed: list[str]

    def as_json(self) -> dict:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def _signature(el: etree._Element) -> tuple:
    """What an element says, without its id and without descendants that have ids of their own
    (those are compared separately)."""
    attrs = tuple(sorted((k, v) for k, v in el.attrib.items() if k != "id"))
    children = tuple(_signature(c) for c in el if isinstance(c.tag, str) and not c.get("id"))
    return (el.tag, attrs, (el.text or "").strip(), children)


def _semantic_elements(xml: bytes) -> dict[str, etree._Element]:
    root = _parse(xml)
    out = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace in SEMANTIC_NAMESPACES \
                and el is not root:
            out[el.get("id")] = el
    return out


def diff_xml(old: bytes | str, new: bytes | str) -> Diff:
    """Elements (by id) added, removed and changed between two diagrams; layout (DI) is ignored."""
    a, b = _semantic_elements(as_text(old)), _semantic_elements(as_text(new))
    return Diff(added=sorted(set(b) - set(a)), removed=sorted(set(a) - set(b)),
                changed=sorted(i for i in set(a) & set(b) if _signature(a[i]) != _signature(b[i])))


def diff_versions(session: Session, code: str, old: int, new: int | str) -> Diff:
    """Compare version `old` with version `new` (a number, or "draft")."""
    before = get_version(session, code, old).bpmn_xml
    if new == "draft":
        draft = get_draft(session, code)
        if draft is None:
            raise NotFound(f"thủ tục '{code}' không có bản nháp")
        after = draft.bpmn_xml
    else:
        after = get_version(session, code, int(new)).bpmn_xml
    try:
        return diff_xml(before, after)
    except etree.XMLSyntaxError as e:
        raise Invalid(f"không so sánh được: XML hỏng ({e.msg})") from None


# --- New procedure template ----------------------------------------------------------------------


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
        raise Invalid("chọn ít nhất một cấp xử lý", details={"levels": "required"})
    unknown = [lv for lv in levels if lv not in by_code]
    if unknown:
        raise Invalid(f"cấp không tồn tại: {', '.join(unknown)}", details={"levels": unknown})
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

