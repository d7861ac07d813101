"""Domain errors. The web layer maps each to an HTTP status; the CLI prints its message.

An error raised with `.of(text_code, **params)` says what went wrong by a stable code (engine/error_texts.py):
`message` is its Vietnamese text; the web and the API translate the code for the page's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from engine.error_texts import TEXTS

# Set by the web layer (web/error_texts.py): the page's language for coded errors. The engine never imports Flask.
_translator: Callable[[str, dict[str, Any]], str | None] | None = None


def set_translator(translate: Callable[[str, dict[str, Any]], str | None] | None) -> None:
    global _translator
    _translator = translate


class MotcuaError(Exception):
    """Each kind of error is a subclass naming its HTTP status and stable code in its header:
    `class NotFound(MotcuaError, status=404, code="not_found")`."""

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, details: object | None = None) -> None:
        super().__init__(message)
        self.vietnamese = message
        self.details = details
        self.text_code: str | None = None
        self.params: dict[str, Any] = {}

    @classmethod
    def of(cls, text_code: str, *, details: object | None = None, **params: Any) -> Self:
        """The error whose message is TEXTS[text_code] with `params` (KeyError for an unknown code)."""
        error = cls(TEXTS[text_code] % params, details)
        error.text_code, error.params = text_code, params
        return error

    @property
    def message(self) -> str:
        """In the page's language when the web has set a translator and is answering a request; else Vietnamese."""
        if self.text_code is not None and _translator is not None:
            translated = _translator(self.text_code, self.params)
            if translated is not None:
                return translated
        return self.vietnamese


class NotFound(MotcuaError, status=404, code="not_found"):
    """What was asked for does not exist, or is not visible to the user (never tell which)."""


class Forbidden(MotcuaError, status=403, code="forbidden"):
    """The user's roles and unit do not allow the action."""


class Conflict(MotcuaError, status=409, code="conflict"):
    """The case or record moved on (a lost race, a step already done): reload and look again."""


class Invalid(MotcuaError, status=422, code="invalid"):
    """The data breaks a business rule; `details` names the fields."""


class RoutingError(MotcuaError, status=422, code="routing_error"):
    """A step's lane cannot be resolved to a unit; shown on the case, never a lost case."""
