"""Is every element of a diagram on a path from a start event to an end event?

SpiffWorkflow parses a task connected to nothing without complaint and a case would never reach it, or reach
it and stay there. The designer's canvas (bpmnlint: no-disconnected, no-implicit-start/end, path-to-end)
shows these; deploying must refuse them with the same element ids, whatever tool drew the file."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_TASKS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
          "businessRuleTask"}
FLOW_NODES = _TASKS | {"subProcess", "callActivity", "transaction", "adHocSubProcess", "startEvent", "endEvent",
                       "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
                       "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
# Containers whose children are checked as a flow of their own; an ad-hoc sub-process has no flow by design
# and a transaction is refused as unsupported anyway.
CONTAINERS = {"process", "subProcess"}

Report = Callable[[etree._Element, str], None]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _has(el: etree._Element, definition: str) -> bool:
    return el.find(f"{{{BPMN}}}{definition}") is not None


def _label(el: etree._Element) -> str:
    return el.get("name") or el.get("id", "")


def check(proc: etree._Element, report: Report) -> None:
    """Report unconnected and unreachable flow nodes of the process and of each sub-process in it."""
    for container in [proc, *proc.iter(f"{{{BPMN}}}subProcess")]:
        if not _inside_unchecked(container, proc):
            _check_container(container, report)


def _inside_unchecked(el: etree._Element, proc: etree._Element) -> bool:
    """A sub-process inside an ad-hoc sub-process or a transaction: not a flow of its own to check."""
    if el is proc:
        return False
    parent = el.getparent()
    while parent is not None and parent is not proc:
        if _local(parent) not in CONTAINERS:
            return True
        parent = parent.getparent()
    return False


def _check_container(container: etree._Element, report: Report) -> None:
    nodes = {el.get("id"): el for el in container
             if _local(el) in FLOW_NODES and el.get("id") and el.get("isForCompensation") != "true"}
    if not nodes:
        return
    succ: dict[str, set[str]] = {n: set() for n in nodes}
    pred: dict[str, set[str]] = {n: set() for n in nodes}
    has_in: set[str] = set()
    has_out: set[str] = set()
    for flow in container.iterfind(f"{{{BPMN}}}sequenceFlow"):
        src, dst = flow.get("sourceRef"), flow.get("targetRef")
        if src in nodes:
            has_out.add(src)
        if dst in nodes:
            has_in.add(dst)
        if src in nodes and dst in nodes:
            succ[src].add(dst)
            pred[dst].add(src)
    _link_implicit_edges(nodes, succ, pred)

    entries = {n for n, el in nodes.items() if _is_entry(el)}
    ends = {n for n, el in nodes.items() if _local(el) == "endEvent"}
    reached = _walk(entries, succ)
    finishing = _walk(ends, pred)
    for nid, el in nodes.items():
        name = _label(el)
        needs_in = not (_is_entry(el) or _is_link_catch(el) or _local(el) == "boundaryEvent")
        needs_out = _needs_outgoing(el)
        if needs_in and nid not in has_in:
            report(el, f"'{name}' không có luồng vào: nối một luồng từ bước trước (hoặc sự kiện bắt đầu) tới nó")
        elif entries and nid not in reached:
            report(el, f"không tới được '{name}' từ sự kiện bắt đầu: không hồ sơ nào đi qua phần tử này")
        if needs_out and nid not in has_out:
            report(el, f"'{name}' không có luồng ra: nối nó tới bước sau hoặc tới sự kiện kết thúc")
        elif needs_out and ends and nid not in finishing:
            report(el, f"từ '{name}' không có đường tới sự kiện kết thúc: hồ sơ sẽ bị kẹt tại đây")
    if not ends:
        report(container, f"'{_label(container)}' không có sự kiện kết thúc (endEvent)")


def _link_implicit_edges(nodes: dict[str, etree._Element], succ: dict[str, set[str]],
                         pred: dict[str, set[str]]) -> None:
    """Edges that are not sequence flows: a host activity continues through its boundary events, and a link
    throw event continues at the link catch event of the same name."""
    catches: dict[str, list[str]] = {}
    for nid, el in nodes.items():
        if _is_link_catch(el):
            catches.setdefault(_link_name(el), []).append(nid)
    for nid, el in nodes.items():
        targets = []
        if _local(el) == "boundaryEvent" and el.get("attachedToRef") in nodes:
            succ[el.get("attachedToRef")].add(nid)
            pred[nid].add(el.get("attachedToRef"))
        if _local(el) == "intermediateThrowEvent" and _has(el, "linkEventDefinition"):
            targets = catches.get(_link_name(el), [])
        for t in targets:
            succ[nid].add(t)
            pred[t].add(nid)


def _link_name(el: etree._Element) -> str:
    link = el.find(f"{{{BPMN}}}linkEventDefinition")
    return (link.get("name") if link is not None else "") or ""


def _is_link_catch(el: etree._Element) -> bool:
    return _local(el) == "intermediateCatchEvent" and _has(el, "linkEventDefinition")


def _is_entry(el: etree._Element) -> bool:
    """Where a path begins without an incoming flow: start events and event sub-processes (started by their
    event). Boundary events continue their host's path instead."""
    return _local(el) == "startEvent" or _is_event_subprocess(el)


def _is_event_subprocess(el: etree._Element) -> bool:
    return _local(el) == "subProcess" and el.get("triggeredByEvent") == "true"


def _needs_outgoing(el: etree._Element) -> bool:
    tag = _local(el)
    if tag == "endEvent" or _is_event_subprocess(el):
        return False
    if tag == "intermediateThrowEvent" and _has(el, "linkEventDefinition"):
        return False
    return not (tag == "boundaryEvent" and _has(el, "compensateEventDefinition"))


def _walk(starts: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, queue = set(starts), deque(starts)
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
