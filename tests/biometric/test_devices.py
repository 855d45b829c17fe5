"""The capture device protocol: the service's HTTP client against the simulated device
service, a real process reached over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from services.biometric.devices import DeviceError, HttpCaptureDevices
from simulators.capture import library
from simulators.capture.subjects import simulation_seed
from tests.biometric.conftest import rendered
from tests.biometric.stage_kit import capture_devices
from tuntas.stack.prereq import free_port

KEC = "350805"


async def test_capture_returns_the_seated_persons_artefacts_and_nothing_for_an_absent_finger(
    device_url: str,
) -> None:
    async with httpx.AsyncClient() as http:
        seated = await http.put(
            device_url.format(kecamatan=KEC) + "/subject",
            json={"seed": "ani", "absent": ["left_ring"], "poor_attempts": {"face": 1}},
        )
        assert seated.status_code == 204
    devices = HttpCaptureDevices(device_url)
    try:
        thumb = await devices.capture(KEC, "tx-ani", "finger.right_thumb")
        assert thumb == rendered("ani", "finger.right_thumb")  # the same person, bit for bit
        assert await devices.capture(KEC, "tx-ani", "finger.left_ring") is None
        poor_face = await devices.capture(KEC, "tx-ani", "face")
        assert poor_face == rendered("ani", "face", poor=True)
        assert await devices.capture(KEC, "tx-ani", "face") == rendered("ani", "face", 2)
        # no one seated for a new transaction: a person derived from its id, the same each time
        first = await devices.capture(KEC, "tx-nobody", "finger.right_thumb")
        assert first == rendered("tx-nobody", "finger.right_thumb")
    finally:
        await devices.aclose()


async def _refused(url: str, item: str, why: str) -> None:
    """Capturing ``item`` from the device service at ``url`` raises `DeviceError` saying ``why``."""
    devices = HttpCaptureDevices(url)
    try:
        with pytest.raises(DeviceError, match=why):
            await devices.capture(KEC, "tx-1", item)
    finally:
        await devices.aclose()


async def test_protocol_errors_and_an_unreachable_service_raise_device_error(
    device_url: str,
) -> None:
    await _refused(device_url, "finger.sixth", "unknown_item")
    await _refused(f"http://127.0.0.1:{free_port()}/{{kecamatan}}", "face", "unreachable")


@pytest.fixture
def garbled_device() -> Iterator[str]:
    """A device service that answers 200 with a capture whose image is not base64 (a real
    HTTP server: what the client must refuse is in the bytes on the wire)."""

    class Garbled(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"outcome": "captured", "data": "iVBOR w0K!", "media_type": "image/png",'
            body += b' "quality": 80}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbled)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{{kecamatan}}"
    finally:
        server.shutdown()
        server.server_close()


async def test_an_image_that_is_not_base64_is_a_bad_answer_not_a_capture(
    garbled_device: str,
) -> None:
    """Not silently decoded after dropping the characters that are not base64."""
    await _refused(garbled_device, "finger.right_thumb", "bad answer")


async def test_station_info_lists_the_four_devices_ready(device_url: str) -> None:
    async with httpx.AsyncClient() as http:
        info = (await http.get(device_url.format(kecamatan=KEC) + "/info")).json()
        status = (await http.get(device_url.format(kecamatan=KEC) + "/status")).json()
    assert [d["type"] for d in info["devices"]] == ["finger", "iris", "face", "signature"]
    assert status["status"] == "ready"


def test_simulation_seed_is_stable_per_nik_and_hides_it() -> None:
    seed = simulation_seed("3508054107850001")
    assert seed == simulation_seed("3508054107850001") != simulation_seed("3508054107850002")
    assert "3508054107850001" not in seed and not seed.isdigit()


async def test_a_library_serves_its_people_in_order_each_once_then_renders(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "library"
    assert library.extend(folder, 2, workers=1) == 2
    (folder / "2").mkdir()  # a person whose writing was cut off: not part of the library
    assert library.complete(folder) == 2
    async with capture_devices("--library", str(folder)) as url:
        devices = HttpCaptureDevices(url)
        try:
            for n, transaction in enumerate(("tx-a", "tx-b")):
                for item in ("finger.left_index", "face"):
                    got = await devices.capture(KEC, transaction, item)
                    assert got == rendered(library.library_seed(n), item), (transaction, item)
            # the library is spent: a new transaction's person is rendered from its id
            spent = await devices.capture(KEC, "tx-c", "finger.left_index")
            assert spent == rendered("tx-c", "finger.left_index")
            # a seated subject still sits down first
            async with httpx.AsyncClient() as http:
                await http.put(url.format(kecamatan=KEC) + "/subject", json={"seed": "ani"})
            assert await devices.capture(KEC, "tx-d", "face") == rendered("ani", "face")
        finally:
            await devices.aclose()
    assert library.extend(folder, 3, workers=1) == 1  # the cut-off person, written again
    assert library.complete(folder) == 3
