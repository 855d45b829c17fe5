"""The recording stations' capture devices, reached by address over the capture device
protocol of ``docs/capture-devices.md`` (modelled on MOSIP SBI): one device service per
station (kecamatan), JSON over HTTP with base64 artefacts."""

from __future__ import annotations

import binascii
from typing import Any, Protocol

import httpx
import orjson
import pybase64

from services.biometric.items import Capture


class DeviceError(Exception):
    """The station's device service is unreachable or answered outside the protocol."""


class CaptureDevices(Protocol):
    """Every station's device set. `None`: the device detected nothing (an absent finger)."""

    async def capture(self, kecamatan: str, transaction_id: str, item: str) -> Capture | None: ...

    async def status(self, kecamatan: str) -> dict[str, Any]: ...


class HttpCaptureDevices:
    """The protocol's client. ``url_template`` names a station's device service, with
    ``{kecamatan}`` standing for the station (``http://127.0.0.1:4501/{kecamatan}``)."""

    def __init__(self, url_template: str, *, timeout_s: float = 30.0) -> None:
        self._template = url_template
        self._http = httpx.AsyncClient(timeout=timeout_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def status(self, kecamatan: str) -> dict[str, Any]:
        """The station's ``GET {base}/status``: overall and per device type."""
        url = self._template.format(kecamatan=kecamatan).rstrip("/") + "/status"
        try:
            response = await self._http.get(url)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DeviceError(f"capture devices of {kecamatan} unreachable: {error}") from None
        if response.status_code != 200 or not isinstance(answer, dict):
            raise DeviceError(f"capture devices of {kecamatan}: HTTP {response.status_code}")
        return answer

    async def capture(self, kecamatan: str, transaction_id: str, item: str) -> Capture | None:
        url = self._template.format(kecamatan=kecamatan).rstrip("/") + "/capture"
        try:
            response = await self._http.post(
                url, json={"transaction_id": transaction_id, "item": item}
            )
        except httpx.HTTPError as error:
            raise DeviceError(f"capture devices of {kecamatan} unreachable: {error}") from None
        try:  # orjson and pybase64: a print is a ~140 KB answer, ten per applicant
            answer = orjson.loads(response.content)
        except ValueError:
            answer = {}
        if response.status_code != 200:
            problem = answer.get("error", {}) if isinstance(answer, dict) else {}
            raise DeviceError(
                f"capture devices of {kecamatan}: HTTP {response.status_code}"
                f" {problem.get('code', '')}: {problem.get('message', response.text[:200])}"
            )
        try:
            if answer["outcome"] == "not_detected":
                return None
            return Capture(
                item,
                pybase64.b64decode(answer["data"], validate=True),
                answer["media_type"],
                int(answer["quality"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise DeviceError(f"capture devices of {kecamatan}: bad answer ({error})") from None
