"""API shapes of liên thông (partners, inbound messages, outbox retry); see web/schemas.py for the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from web.schemas import text


class PartnerIn(BaseModel):
    code: text(64, 1)
    name: text(300, 1)
    url: text(500, 1)
    kind: Literal["system", "portal"] = "system"
    key: text(200, 1) = Field(description="the partner's Standard Webhooks secret (whsec_…): verifies its messages")
    unit_code: text(64) | None = Field(None, description="unit where the partner's messages create cases")


class PartnerOut(BaseModel):
    code: str
    name: str
    url: str
    kind: str
    unit_code: str | None
    active: bool
    created_at: datetime


class Partners(BaseModel):
    identity: str | None = Field(description="this instance's agency code towards its partners")
    items: list[PartnerOut]


class Ack(BaseModel):
    """The receiver's acknowledgement, sent after its commit."""

    status: Literal["accepted", "duplicate"]
    message_id: str
    case_code: str | None = None


class OutboxOut(BaseModel):
    id: int
    message_id: str
    partner: str
    message: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


class BranchOut(BaseModel):
    """One partner branch of a case as the sending desk follows it."""

    partner: str
    partner_name: str
    message: str
    state: Literal["waiting_sync", "incident", "acknowledged", "result"]
    label: str
    sent_at: datetime
    acknowledged_at: datetime | None
    result_at: datetime | None
    result_message: str | None


class Timeline(BaseModel):
    code: str
    branches: list[BranchOut]
