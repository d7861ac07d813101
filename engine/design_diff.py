"""Comparing two versions of a diagram (or a version and the draft): elements by id added, removed and
changed; layout (DI) is ignored."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from sqlalchemy.orm import Session

from engine import deploy as deploy_service
from engine.design_access import as_text, parse_xml
from engine.design_versions import get_draft, get_version
from engine.errors import Invalid, NotFound

SEMANTIC_NAMESPACES = {deploy_service.BPMN}

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
    root = parse_xml(xml)
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
            raise NotFound.of("draft_not_found", code=code)
        after = draft.bpmn_xml
    else:
        after = get_version(session, code, int(new)).bpmn_xml
    try:
        return diff_xml(before, after)
    except etree.XMLSyntaxError as e:
        raise Invalid.of("diff_xml_broken", error=e.msg) from None
