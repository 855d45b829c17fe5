"""The ABIS tests' kit: the ABIS in-process, a reference server holding people's templates
(the registration side's reference URL, over real HTTP), and requests over real Kafka."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from schemas.envelope import Envelope, parse_event
from schemas.events import AbisOperation, AbisRequested, AbisResponded
from schemas.fingerprint import fingerprint_template
from schemas.topics import Topics
from services.abis.index import DEDUPE_FINGERS
from simulators.capture.render import render


@cache
def templates_of(person: str, attempt: int) -> dict[str, bytes]:
    """The dedupe fingers' templates of one impression of a simulated person."""
    return {
        f: fingerprint_template(render(person, f"finger.{f}", attempt).data) for f in DEDUPE_FINGERS
    }


@dataclass
class ReferenceServer:
    """``GET /references/<id>`` → ``{"templates": {finger: base64}}``, and a batch document
    ``GET /batches/<name>?after=<id>&limit=<n>`` → ``{"references": [{"reference_id": id,
    "templates": …}]}`` in reference id order (404 if unknown; 401 without a bearer token: the
    ABIS must show its own)."""

    held: dict[str, Mapping[str, bytes]] = field(default_factory=dict)
    batches: dict[str, list[str]] = field(default_factory=dict)  # name → held reference ids
    port: int = 0

    def url(self, reference_id: uuid.UUID) -> str:
        return f"http://127.0.0.1:{self.port}/references/{reference_id}"

    def batch_url(self, name: uuid.UUID) -> str:
        return f"http://127.0.0.1:{self.port}/batches/{name}"

    def _templates(self, reference_id: str) -> dict[str, Any]:
        held = self.held[reference_id]
        return {"templates": {f: base64.b64encode(t).decode() for f, t in held.items()}}

    def _document(self, target: str) -> dict[str, Any] | None:
        url = urllib.parse.urlsplit(target)
        kind, _, name = url.path.strip("/").partition("/")
        if kind == "batches" and name in self.batches:
            query = dict(urllib.parse.parse_qsl(url.query))
            after, limit = query.get("after", ""), int(query.get("limit", "100"))
            page = [r for r in sorted(self.batches[name]) if r > after][:limit]
            return {"references": [{"reference_id": r} | self._templates(r) for r in page]}
        if kind == "references" and name in self.held:
            return self._templates(name)
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        document = self._document(request.split(b" ", 2)[1].decode())
        if b"\r\nauthorization: bearer " not in request.lower():
            status, body = b"401 Unauthorized", b"{}"
        elif document is None:
            status, body = b"404 Not Found", b"{}"
        else:
            status, body = b"200 OK", json.dumps(document).encode()
        writer.write(
            b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()


@asynccontextmanager
async def reference_server(port: int = 0) -> AsyncIterator[ReferenceServer]:
    server = ReferenceServer()
    listening = await asyncio.start_server(server._serve, "127.0.0.1", port)
    server.port = listening.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listening.close()
        await listening.wait_closed()


def request(
    operation: AbisOperation,
    reference_id: uuid.UUID | None = None,
    url: str | None = None,
    **fields: Any,
) -> Envelope:
    payload = AbisRequested(
        operation=operation,
        request_id=f"{operation.value}-{uuid.uuid4().hex[:12]}",
        reference_id=reference_id,
        reference_url=url,
        **fields,
    )
    return Envelope.new(payload, application_id=reference_id or uuid.uuid4(), kecamatan="350805")


def responses(values: list[bytes]) -> dict[str, AbisResponded]:
    out: dict[str, AbisResponded] = {}
    for value in values:
        payload = parse_event(value).payload
        assert isinstance(payload, AbisResponded)
        out[payload.request_id] = payload
    return out


def request_id(envelope: Envelope) -> str:
    assert isinstance(envelope.payload, AbisRequested)
    return envelope.payload.request_id


def topics(prefix: str) -> Topics:
    return Topics(prefix)
