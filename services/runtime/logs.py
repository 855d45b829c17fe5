"""Structured JSON logs carrying a trace id across stages, with every NIK masked.

``trace_id`` follows one application through every stage: a handled message's log lines carry
its envelope's correlation id (the application id) as ``trace_id`` with its ``causation_id``;
an HTTP request's lines carry the caller's ``X-Trace-Id`` (or ``traceparent``'s trace id, or a
new one), echoed in the answer, so a desk request and the events it causes can be joined.

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
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)
_SIXTEEN_DIGITS = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")


def mask_digits(text: str) -> str:
    """Keep the region prefix and the serial of any 16-digit number: 3508********0001."""
    return _SIXTEEN_DIGITS.sub(r"\1********\2", text)


@contextlib.contextmanager
def bind(**fields: str) -> Iterator[None]:
    """Add fields (application_id, correlation_id, …) to every log line in this block; an
    empty value adds nothing (an event without a cause)."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v}})
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
        if "correlation_id" in entry and "trace_id" not in entry:
            entry["trace_id"] = entry["correlation_id"]
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


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
TRACE_HEADER = "x-trace-id"


def request_trace_id(headers: dict[bytes, bytes]) -> str:
    """The caller's trace id (``X-Trace-Id``, else W3C ``traceparent``'s), else a new one."""
    given = headers.get(TRACE_HEADER.encode(), b"").decode("latin-1").strip()
    if given:
        return given[:64]
    parent = headers.get(b"traceparent", b"").decode("latin-1").split("-")
    if len(parent) == 4 and len(parent[1]) == 32:
        return parent[1]
    return uuid.uuid4().hex


class TraceRequests:
    """ASGI middleware: every log line written while a request is served carries its
    ``trace_id`` (and method and path); the answer says it in ``X-Trace-Id``."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = request_trace_id(dict(scope["headers"]))

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (TRACE_HEADER.encode(), trace_id.encode()),
                ]
            await send(message)

        with bind(trace_id=trace_id, http=f"{scope['method']} {scope['path']}"):
            await self.app(scope, receive, send_traced)
