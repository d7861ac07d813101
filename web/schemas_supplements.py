"""Request and response models of the supplement operations (engine.supplements)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from web.schemas import ApplicantIn, text


class SupplementReceiveIn(BaseModel):
    """Tiếp nhận bổ sung: the incomplete dossier (Mẫu 02) came back complete. Whatever is left out is taken
    from the first attempt (applicant, documents ticked, channel, competent unit, return channel)."""

    applicant: ApplicantIn | None = None
    data: dict[str, Any] | None = Field(None, description="e.g. documents_received: the documents now handed in")
    channel: Literal["desk", "post", "online"] | None = None
    competent_unit: text(64) | None = None
    return_channel: Literal["desk", "post", "online"] | None = None


class SupplementAcceptIn(BaseModel):
    """The desk accepts the supplement the applicant sent; the case's time limit restarts from zero."""

    note: text(2000) | None = None


class PublicSupplementOut(BaseModel):
    code: str
    status_code: int
    status: str
    documents: list[str] = Field(description="names of the files received now")


PUBLIC_SUPPLEMENT_UPLOAD = {
    "multipart/form-data": {"schema": {"type": "object", "required": ["secret", "files"], "properties": {
        "secret": {"type": "string", "description": "the case's lookup secret (mã tra cứu)"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "PDF, JPEG or PNG, each within the upload limit"},
        "note": {"type": "string", "description": "a note to the desk"}}}},
}
