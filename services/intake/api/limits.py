"""The request body limit: bodies over the limit are refused with 413 before they are read
whole (a declared Content-Length, or counted while streamed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

from services.intake.settings import IntakeSettings


def body_limit(settings: IntakeSettings) -> int:
    """The largest body: a largest file in base64 (x4/3) plus the JSON around it."""
    return settings.max_upload_bytes * 4 // 3 + 256 * 1024


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge()
            return message

        async def tracked(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except TooLarge:
            if not started:
                await _too_large(send, self.limit)


class TooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")


def too_large_body(limit: int) -> dict[str, Any]:
    return {
        "message_id": "Permintaan terlalu besar",
        "message_en": "request body too large",
        "detail": [
            {
                "loc": ["body"],
                "path": "",
                "code": "body_too_large",
                "type": "body_too_large",
                "msg": f"request body exceeds {limit} bytes",
                "message_id": "Permintaan terlalu besar",
                "message_en": f"request body exceeds {limit} bytes",
            }
        ],
    }


async def _too_large(send: Callable[[Any], Awaitable[None]], limit: int) -> None:
    body = json.dumps(too_large_body(limit)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
