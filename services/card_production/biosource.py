"""Where the station gets the photo, signature and chip fingerprint templates of a record.

Print-ready events carry only claim checks; the station resolves them through the biometric
service over HTTP (``GET {url}/records/{record_id}/card-data?kecamatan=K``). Tests and the
benchmark can use :class:`SyntheticBiometricSource` (deterministic images per record id) or
any object with the same ``card_data`` method.
"""

from __future__ import annotations

import base64
import binascii
import io
import random
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from PIL import Image, ImageDraw

from services.card_production import fingerprint


@dataclass(frozen=True)
class CardMaterial:
    photo: bytes
    signature: bytes
    finger_1: bytes  # chip templates (TOF1)
    finger_2: bytes

    def __repr__(self) -> str:  # keep biometric bytes out of logs and tracebacks
        return f"CardMaterial(photo={len(self.photo)}B, signature={len(self.signature)}B)"


class BiometricUnavailable(Exception):
    """The source did not answer (retry later)."""


class RecordNotFound(Exception):
    """The source has no such record for this kecamatan (the job cannot be produced)."""


class BiometricSource(Protocol):
    async def card_data(self, record_id: str, kecamatan: str) -> CardMaterial: ...


def _b64(data: dict[str, Any], *names: str) -> bytes:
    for name in names:
        for key in (name, f"{name}_b64", f"{name}_base64"):
            if isinstance(data.get(key), str):
                try:
                    return base64.b64decode(data[key], validate=True)
                except binascii.Error as exc:
                    raise BiometricUnavailable(f"card-data field {key} is not base64") from exc
    raise BiometricUnavailable(f"card-data answer lacks {names[0]}")


def parse_card_data(data: dict[str, Any]) -> CardMaterial:
    """The card-data answer: base64 ``photo``, ``signature`` and two fingerprint templates,
    as ``fingerprint_templates`` (a list) or ``finger_1``/``finger_2``."""
    templates = data.get("fingerprint_templates")
    if isinstance(templates, list) and len(templates) >= 2:
        raw = [t.get("template") if isinstance(t, dict) else t for t in templates[:2]]
        fingers = _b64({"t": raw[0]}, "t"), _b64({"t": raw[1]}, "t")
    else:
        fingers = _b64(data, "finger_1"), _b64(data, "finger_2")
    return CardMaterial(_b64(data, "photo"), _b64(data, "signature"), *fingers)


class HttpBiometricSource:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)

    async def card_data(self, record_id: str, kecamatan: str) -> CardMaterial:
        try:
            answer = await self._client.get(
                f"/records/{record_id}/card-data", params={"kecamatan": kecamatan}
            )
        except httpx.HTTPError as exc:
            raise BiometricUnavailable(f"biometric service: {type(exc).__name__}") from exc
        if answer.status_code in (404, 410):
            raise RecordNotFound(f"biometric record {record_id} not found for {kecamatan}")
        if answer.status_code != 200:
            raise BiometricUnavailable(f"biometric service answered {answer.status_code}")
        body = answer.json()
        if not isinstance(body, dict):
            raise BiometricUnavailable("card-data answer is not an object")
        return parse_card_data(body)

    async def aclose(self) -> None:
        await self._client.aclose()


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def synthetic_photo(seed: str) -> bytes:
    """A 360x480 portrait (300 dpi at 30x40 mm, the certificate's photo box)."""
    rnd = random.Random(f"photo|{seed}")
    img = Image.new("RGB", (360, 480), (200, 30, 30))  # the red background of a KTP-el
    draw = ImageDraw.Draw(img)
    skin = tuple(rnd.randint(150, 230) for _ in range(3))
    draw.ellipse((105, 90, 255, 280), fill=skin)
    draw.rectangle((70, 300, 290, 480), fill=(20, 20, 20))
    return _jpeg(img)


def synthetic_signature(seed: str) -> bytes:
    """A 240x120 scribble (enough for 300 dpi at 18x9 mm)."""
    rnd = random.Random(f"signature|{seed}")
    img = Image.new("L", (240, 120), 255)
    draw = ImageDraw.Draw(img)
    points = [(20 + i * 20, rnd.randint(30, 90)) for i in range(11)]
    draw.line(points, fill=0, width=4)
    return _png(img)


def finger_seed(record_id: str, n: int) -> str:
    return f"{record_id}|{n}"


class SyntheticBiometricSource:
    """Deterministic card data per record id; its fingers are ``simulated_finger(finger_seed)``."""

    def __init__(self) -> None:
        self._cache: dict[str, CardMaterial] = {}

    async def card_data(self, record_id: str, kecamatan: str) -> CardMaterial:
        if record_id not in self._cache:
            self._cache[record_id] = CardMaterial(
                synthetic_photo(record_id),
                synthetic_signature(record_id),
                fingerprint.template(fingerprint.simulated_finger(finger_seed(record_id, 1))),
                fingerprint.template(fingerprint.simulated_finger(finger_seed(record_id, 2))),
            )
        return self._cache[record_id]
