"""Drafts, validation with what exists in this deployment (levels, roles, forms) and deploying new
versions from the designer; a draft another designer saved or deployed meanwhile is a 409 naming them."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import deploy as deploy_service
from engine import inputs
from engine.catalog import load_forms
from engine.design_access import CODE_RE, FORM_NAME_RE, as_text, check_code, parse_xml, require_designer
from engine.design_versions import get_draft, latest
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Level, ProcessDraft, ProcessVersion, Role, User, utcnow

log = logging.getLogger("engine.designer")


def _check_forms(forms: Any) -> dict[str, dict]:
    if forms is None:
        return {}
    if not isinstance(forms, Mapping):
        raise Invalid.of("forms_json_object")
    forms = inputs.json_data("forms", dict(forms))
    for name, schema in forms.items():
        if not isinstance(name, str) or not FORM_NAME_RE.fullmatch(name):
            raise Invalid.of("form_name_invalid", name=name, details={"form": name})
        if not isinstance(schema, Mapping) or not isinstance(schema.get("components", []), list):
            raise Invalid.of("form_not_formjs", name=name, details={"form": name})
    return {str(k): dict(v) for k, v in forms.items()}


def save_draft(session: Session, user: User, code: str, xml: bytes | str, forms: Any = None) -> ProcessDraft:
    """Store (or overwrite) the procedure's draft; a draft may be invalid BPMN, but it must be UTF-8 text."""
    require_designer(user)
    check_code(code)
    data = as_text(xml)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid.of("draft_not_utf8") from None
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
            raise Conflict.of("draft_saved_meanwhile",
                              code=code, who=who.full_name if who else "người khác",
                              details={"procedure": code, "draft_updated_by":
                                                                  who.username if who else None}) from e
        won = deploy_service.newest_deploy(session, code)
        if won is None:
            raise Conflict.of("draft_discarded_meanwhile", code=code, details={"procedure": code}) from e
        raise Conflict.of("draft_deployed_meanwhile",
                          code=code, who=won[2] or won[1] or "người khác", version=won[0],
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
            root = parse_xml(data)
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
        raise Invalid.of("bpmn_problems", file=filename, count=len(v.problems), details=v.as_json())
    if code is None:
        code = v.process_id or ""
        if not CODE_RE.fullmatch(code):
            raise Invalid.of("process_id_not_procedure_code", code=code, details=v.as_json())
    all_forms = available_forms(session, code, forms)
    return deploy_service.deploy(session, data, filename, forms=all_forms, procedure_code=code, user=user)


def deploy_draft(session: Session, user: User, code: str) -> ProcessVersion:
    """Deploy the saved draft as the next version (its forms go with it) and discard the draft."""
    require_designer(user)
    draft = get_draft(session, code)
    if draft is None:
        raise NotFound.of("draft_not_found", code=code)
    pv = deploy_xml(session, user, draft.bpmn_xml.encode("utf-8"), f"{code}.bpmn", code=code,
                    forms=draft.forms or {})
    session.delete(draft)
    session.flush()
    return pv
