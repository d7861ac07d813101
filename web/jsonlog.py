"""Structured logs: one JSON object per line on stderr (journald, docker and log shippers read them as is).
The standard library is enough for that; see docs/developers.md."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, plus the record's `fields` (request id, user…) and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (a test runner swaps it), not the one at creation."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


LOGGERS = ("motcua", "engine", "web")  # motcua.request (one line per request) and the modules' own loggers


def configure(level: int = logging.INFO) -> None:
    """JSON lines on stderr for motcua's loggers (idempotent); the root logger is left to the host."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, _Stderr) for h in logger.handlers):
            handler = _Stderr()
            handler.setFormatter(JsonFormatter())
            logger.addHandler(handler)
            logger.setLevel(level)
            logger.propagate = False
