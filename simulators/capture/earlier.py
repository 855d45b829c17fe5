"""The earlier mass recording's export, as a national system would hand it over: one JSON line
per person, ``{nik, photo, signature, templates}`` (see ``docs/capture-devices.md``), for
``python -m services.biometric.earlier --records-file``. Each NIK's person is
:func:`~simulators.capture.subjects.simulation_seed` of it, so a later live finger matches."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path

from schemas.fingerprint import fingerprint_template
from simulators.capture.render import FINGERS, Rendered, render
from simulators.capture.subjects import simulation_seed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _image(rendered: Rendered) -> dict[str, object]:
    return {
        "media_type": rendered.media_type,
        "quality": rendered.quality,
        "data": _b64(rendered.data),
    }


def export_line(nik: str) -> str:
    seed = simulation_seed(nik)
    templates = {
        f: _b64(fingerprint_template(render(seed, f"finger.{f}", 1).data)) for f in FINGERS
    }
    return json.dumps(
        {
            "nik": nik,
            "photo": _image(render(seed, "face", 1)),
            "signature": _image(render(seed, "signature", 1)),
            "templates": templates,
        }
    )


def write_export(niks: Iterable[str], out: Path) -> int:
    count = 0
    with out.open("w") as file:
        for nik in niks:
            file.write(export_line(nik) + "\n")
            count += 1
    return count
