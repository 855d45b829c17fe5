"""The biometric service's card-data endpoint as the station sees it over HTTP, serving
deterministic synthetic material per record id, or a chosen answer (403, a broken body)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw

from services.card_production import fingerprint


def _image(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return buf.getvalue()


def synthetic_photo(seed: str) -> bytes:
    """A 360x480 portrait (300 dpi at 30x40 mm, the certificate's photo box)."""
    rnd = random.Random(f"photo|{seed}")
    img = Image.new("RGB", (360, 480), (200, 30, 30))  # the red background of a KTP-el
    draw = ImageDraw.Draw(img)
    skin = tuple(rnd.randint(150, 230) for _ in range(3))
    draw.ellipse((105, 90, 255, 280), fill=skin)
    draw.rectangle((70, 300, 290, 480), fill=(20, 20, 20))
    return _image(img, "JPEG")


def synthetic_signature(seed: str) -> bytes:
    """A 240x120 scribble (enough for 300 dpi at 18x9 mm)."""
    rnd = random.Random(f"signature|{seed}")
    img = Image.new("L", (240, 120), 255)
    points = [(20 + i * 20, rnd.randint(30, 90)) for i in range(11)]
    ImageDraw.Draw(img).line(points, fill=0, width=4)
    return _image(img, "PNG")


def finger_seed(record_id: str, n: int) -> str:
    """The simulated finger whose template is on record ``record_id``'s chip as finger n."""
    return f"{record_id}|{n}"


def card_data(record_id: str) -> dict[str, Any]:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    fingers = [fingerprint.template(fingerprint.simulated_finger(finger_seed(record_id, n)))
               for n in (1, 2)]  # fmt: skip
    return {
        "photo": b64(synthetic_photo(record_id)),
        "signature": b64(synthetic_signature(record_id)),
        "finger_1": b64(fingers[0]),
        "finger_2": b64(fingers[1]),
    }


@dataclass
class BiometricStub:
    url: str = ""
    answers: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # record -> answer
    asked: list[str] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = (await reader.readline()).decode()
            while (await reader.readline()).strip():  # headers
                pass
            path = urlsplit(request.split()[1]).path  # /records/<id>/card-data
            record = path.split("/")[2]
            self.asked.append(record)
            status, body = self.answers.get(record) or (200, json.dumps(card_data(record)).encode())
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def serving_stub() -> AsyncIterator[BiometricStub]:
    """The stub served on the running loop until the block ends."""
    stub = BiometricStub()
    server = await asyncio.start_server(stub._serve, "127.0.0.1", 0)
    stub.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield stub


@pytest.fixture
async def biometric() -> AsyncIterator[BiometricStub]:
    async with serving_stub() as stub:
        yield stub
