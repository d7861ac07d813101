"""Liên thông on the Phiếu kiểm soát: a message to a partner is a handover to that system (closed when the
partner acknowledged it, annotated with every failure, give-up and retry); a partner's message is a
handover from that system. engine.control_slip calls `apply` for the lienthong_* events."""

from __future__ import annotations

from typing import Any

from engine.calendar import VN_TZ
from engine.models import Event

KINDS = ("lienthong_queued", "lienthong_sent", "lienthong_failed", "lienthong_late", "lienthong_incident",
         "lienthong_retried",
         "lienthong_received")


def _system(data: dict) -> str:
    return f"Hệ thống liên thông: {data.get('partner_name') or data.get('partner')} ({data.get('partner')})"


def _moment(ev: Event) -> str:
    return ev.at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def apply(ev: Event, rows: list, by_message: dict[str, Any], row_type: Any, unit_label: Any) -> None:
    """Add or annotate the slip row of one liên thông event (rows keyed by message id)."""
    data = ev.data or {}
    mid = str(data.get("message_id") or "")
    if ev.kind == "lienthong_queued":
        row = row_type(giver=unit_label(ev.from_unit), receiver=_system(data), at=ev.at, step=ev.step or "",
                       note=f"Thư «{data.get('message')}» chờ gửi")
        rows.append(row)
        by_message[mid] = row
    elif ev.kind == "lienthong_received":
        rows.append(row_type(giver=_system(data), receiver=unit_label(ev.to_unit), at=ev.at, step=ev.step or "",
                             done_at=ev.at, note=f"Đã nhận thư «{data.get('message')}»"))
    else:
        row = by_message.get(mid)
        if row is None:
            return
        if ev.kind == "lienthong_sent":
            row.done_at = ev.at
            row.note = f"Hệ thống nhận đã xác nhận lúc {_moment(ev)} (lần gửi {data.get('attempts')})"
        elif ev.kind == "lienthong_failed":
            row.note = f"{row.note}; gửi lỗi lúc {_moment(ev)}: {data.get('error')}"
        elif ev.kind == "lienthong_late":
            row.note = f"{row.note}; quá 10 phút chưa đồng bộ, đã báo cán bộ kỹ thuật"
        elif ev.kind == "lienthong_incident":
            row.note = f"{row.note}; ngừng gửi sau {data.get('attempts')} lần — sự cố chờ quản trị"
        elif ev.kind == "lienthong_retried":
            row.note = f"{row.note}; quản trị cho gửi lại lúc {_moment(ev)}"
