"""Who may design, what a procedure code and a form name look like, and how an uploaded diagram is read
(UTF-8, bounded size, no entities or network) — the rules every designer service applies first."""

from __future__ import annotations

import re

from lxml import etree

from engine import procedure_codes
from engine.errors import Forbidden, Invalid
from engine.models import User

CODE_RE = procedure_codes.CODE_RE  # the one procedure-code rule (engine.procedure_codes)
FORM_NAME_RE = re.compile(r"^[a-z0-9_]{1,100}$")
MAX_BPMN_BYTES = 5 * 1024 * 1024


def can_design(user: User | None) -> bool:
    return user is not None and user.can("designs")


def require_designer(user: User | None) -> None:
    if not can_design(user):
        raise Forbidden.of("designer_forbidden")


def check_code(code: str) -> str:
    return procedure_codes.check_code(code)


def parse_xml(xml: bytes) -> etree._Element:
    """XML as BPMN needs it: no entity expansion, no network, no DTD, no huge trees (uploads are untrusted)."""
    return etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                                        huge_tree=False))


def as_text(xml: bytes | str) -> bytes:
    """The upload as UTF-8 bytes. Other encodings an XML declaration names (UTF-16, latin-1, …) are
    re-serialised to UTF-8 so versions are stored as text; bytes lxml cannot read are kept as they are and
    validation reports them."""
    if isinstance(xml, str):
        return xml.encode("utf-8")
    if len(xml) > MAX_BPMN_BYTES:
        raise Invalid.of("bpmn_too_large", size=len(xml), max=MAX_BPMN_BYTES)
    try:
        xml.decode("utf-8")
        return xml
    except UnicodeDecodeError:
        pass
    try:
        root = parse_xml(xml)
    except etree.XMLSyntaxError:
        return xml
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)
