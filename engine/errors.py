"""Domain errors. The web layer maps each to an HTTP status; the CLI prints its message."""

from __future__ import annotations


class MotcuaError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(MotcuaError):
    status = 404
    code = "not_found"


class Forbidden(MotcuaError):
    status = 403
    code = "forbidden"


class Conflict(MotcuaError):
    status = 409
    code = "conflict"


class Invalid(MotcuaError):
    status = 422
    code = "invalid"


class RoutingError(MotcuaError):
    """A step's lane cannot be resolved to a unit; shown on the case, never a lost case."""

    status = 422
    code = "routing_error"
