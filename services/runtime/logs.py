"""Structured JSON logs carrying the application and correlation ids, with every NIK masked.

A NIK (and a KK number) is 16 digits; any run of exactly 16 digits in a log line is masked,
whatever code wrote it, so a forgotten ``%s`` of a payload cannot leak one.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)
_SIXTEEN_DIGITS = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")


def mask_digits(text: str) -> str:
    """Keep the region prefix and the serial of any 16-digit number: 3508********0001."""
    return _SIXTEEN_DIGITS.sub(r"\1********\2", text)


@contextlib.contextmanager
def bind(**fields: str) -> Iterator[None]:
    """Add fields (application_id, correlation_id, …) to every log line in this block."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
            **(_context.get() or {}),
        }
        if "application_id" in entry and "correlation_id" not in entry:
            entry["correlation_id"] = entry["application_id"]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_digits(json.dumps(entry, ensure_ascii=False, default=str))


def configure(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for this process; quiet the chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
