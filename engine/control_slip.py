"""Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 05, TT 01/2018): the one builder of its rows, read from
the audit trail. The case page and the PDF (engine.slips) both show `control_rows()`.

Each handover is a row; the completion of the step it opened closes it (the earliest still-open handover
of the same diagram step to the unit that completed it, so a step done twice — a loop back — closes its
rows in order) and gives the row its early / on time / late. A completion without a recorded handover is
a row of its own, so nothing done is missing from the slip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lienthong_audit
from engine.calendar import VN_TZ
from engine.models import Case, Event, Role, Unit, User
from engine.unit_history import NamesAt

TIMING = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
OUTCOMES = {"approve": "Đồng ý", "refuse": "Từ chối", "supplement": "Yêu cầu bổ sung, hoàn thiện hồ sơ"}
CHANNELS = {"desk": "Trực tiếp tại Bộ phận Một cửa", "post": "Qua dịch vụ bưu chính công ích",
            "online": "Trực tuyến"}


@dataclass
class ControlRow:
    """One line of the Phiếu kiểm soát: who handed the case to whom, when, and how that step went."""

    giver: str
    receiver: str
    at: datetime
    step: str
    due_at: datetime | None = None
    done_at: datetime | None = None
    timing: str | None = None
    actor: str = ""  # who completed the step
    note: str = ""

    @property
    def timing_label(self) -> str:
        return TIMING.get(self.timing or "", "")


def _unit_label(unit: Unit | None, role: str | None, roles: dict[str, str], who: str = "",
                names: NamesAt | None = None, at: datetime | None = None) -> str:
    parts = [(names.name(unit, at) if names else unit.name) if unit else ""]
    if role:
        parts.append(roles.get(role, role))
    text = " — ".join(p for p in parts if p)
    return f"{text} ({who})" if who else text


def _desk_role(user: User | None) -> str | None:
    """The role under which `user` received the dossier: one of theirs that receives dossiers."""
    if user is None:
        return None
    return next((link.role_code for link in user.role_links if link.role.receives_dossiers), None)


def _moment(value: datetime) -> str:
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def control_rows(session: Session, case: Case) -> list[ControlRow]:
    """The rows of the case's Phiếu kiểm soát, in order."""
    roles = {r.code: r.name for r in session.scalars(select(Role))}
    names = NamesAt(session)  # units as they were called when each handover happened (engine.restructure)
    rows: list[ControlRow] = []
    open_rows: list[tuple[Event, ControlRow]] = []
    events = session.scalars(select(Event).where(Event.case_id == case.id,
                                                 Event.kind.in_(("received", "handover", "task_completed",
                                                                 *lienthong_audit.KINDS)))
                             .order_by(Event.at, Event.id))
    by_message: dict = {}
    for ev in events:
        if ev.kind.startswith("lienthong_"):
            lienthong_audit.apply(ev, rows, by_message, ControlRow, lambda u: _unit_label(u, None, roles))
            continue
        actor = (ev.actor.full_name or ev.actor.username) if ev.actor else ""
        if ev.kind == "received":
            rows.append(ControlRow(
                giver=f"Người nộp hồ sơ: {case.applicant_name}",
                receiver=_unit_label(ev.to_unit, _desk_role(ev.actor), roles, actor, names, ev.at), at=ev.at,
                step=ev.step or "", due_at=ev.step_due_at,
                note=CHANNELS.get(str((ev.data or {}).get("channel")), "")))
        elif ev.kind == "handover":
            reason = (ev.data or {}).get("reason")
            # A unit merged away or abolished hands its open step on: the row it held closes with why.
            left = next((pair for pair in open_rows if reason and pair[0].step_bpmn_id == ev.step_bpmn_id
                         and pair[0].to_unit_id == ev.from_unit_id), None)
            if left is not None:
                open_rows.remove(left)
                left[1].note = f"Chuyển {_moment(ev.at)} do {reason}"
            row = ControlRow(giver=_unit_label(ev.from_unit, None, roles, actor, names, ev.at),
                             receiver=_unit_label(ev.to_unit, (ev.data or {}).get("role"), roles, "", names, ev.at),
                             at=ev.at, step=ev.step or "", due_at=ev.step_due_at, note=reason or "")
            rows.append(row)
            open_rows.append((ev, row))
        else:
            match = next((pair for pair in open_rows if pair[0].step_bpmn_id == ev.step_bpmn_id
                          and pair[0].to_unit_id == ev.from_unit_id), None)
            data = ev.data or {}
            if data.get("on_behalf_of_name"):  # a deputy (engine.delegation): both names, as signed
                actor = f"{actor} thay mặt {data['on_behalf_of_name']}"
            note = "; ".join(x for x in (OUTCOMES.get(str(data.get("outcome")), ""),
                                         str(data.get("comment") or ""),
                                         actor if data.get("on_behalf_of_name") else "") if x)
            if match is not None:
                open_rows.remove(match)
                row = match[1]
                row.done_at, row.timing, row.actor = ev.at, ev.timing, actor
                row.note = "; ".join(x for x in (f"Xong {_moment(ev.at)}", note) if x)
            else:
                done_by = f"{ev.step}: {actor}" if actor else (ev.step or "")
                rows.append(ControlRow(giver=_unit_label(ev.from_unit, None, roles, actor, names, ev.at),
                                       receiver=done_by,
                                       at=ev.at, step=ev.step or "", due_at=ev.step_due_at, done_at=ev.at,
                                       timing=ev.timing, actor=actor, note=note))
    return rows
