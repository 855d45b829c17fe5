"""Where the station gets the photo, signature and chip fingerprint templates of a record.

Print-ready events carry only claim checks; the station resolves them through the biometric
service over HTTP (``GET {url}/records/{record_id}/card-data`` with the station's machine token).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class CardMaterial:
    photo: bytes
    signature: bytes
    finger_1: bytes  # chip templates (TOF1)
    finger_2: bytes

    def __repr__(self) -> str:  # keep biometric bytes out of logs and tracebacks
        return f"CardMaterial(photo={len(self.photo)}B, signature={len(self.signature)}B)"


class BiometricUnavailable(Exception):
    """The source did not answer, or answered 5xx (retry later)."""


class CardDataRefused(Exception):
    """The source answered 4xx: asking again will not help (the job is escalated)."""

    reason = "card_data_refused"


class RecordNotFound(CardDataRefused):
    """The source has no such record for this kecamatan."""

    reason = "record_not_found"


class BadCardData(Exception):
    """The answer is not card data (a defect of the source, counted against the job)."""


def _b64(data: dict[str, Any], *names: str) -> bytes:
    for name in names:
        for key in (name, f"{name}_b64", f"{name}_base64"):
            if isinstance(data.get(key), str):
                try:
                    return base64.b64decode(data[key], validate=True)
                except ValueError as exc:  # binascii.Error, or text that is not ASCII
                    raise BadCardData(f"card-data field {key} is not base64") from exc
    raise BadCardData(f"card-data answer lacks {names[0]}")


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
    """The biometric service, called with the station's machine token (``auth``): the service
    reads the station's kecamatan from the token, not from the request."""

    def __init__(
        self, base_url: str, auth: httpx.Auth | None = None, timeout_s: float = 10.0
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), auth=auth, timeout=timeout_s
        )

    async def card_data(self, record_id: str, kecamatan: str) -> CardMaterial:
        try:
            answer = await self._client.get(f"/records/{record_id}/card-data")
        except httpx.HTTPError as exc:  # the IdP's refusals included: retried later
            raise BiometricUnavailable(f"biometric service: {type(exc).__name__}") from exc
        status = answer.status_code
        if status in (404, 410):
            raise RecordNotFound(f"biometric record {record_id} not found for {kecamatan}")
        if status >= 500:
            raise BiometricUnavailable(f"biometric service answered {status}")
        if status != 200:
            raise CardDataRefused(
                f"biometric service refused card data of record {record_id} for {kecamatan}:"
                f" {status} {answer.reason_phrase}"
            )
        try:
            body = answer.json()
        except ValueError as exc:
            raise BadCardData("card-data answer is not JSON") from exc
        if not isinstance(body, dict):
            raise BadCardData("card-data answer is not an object")
        return parse_card_data(body)

    async def aclose(self) -> None:
        await self._client.aclose()
