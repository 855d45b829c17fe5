"""The earlier mass recording's export, as a national system would hand it over: one JSON line
per person, ``{nik, photo, signature, templates}`` (see ``docs/capture-devices.md``), for
``python -m services.biometric.earlier --records-file``. Each NIK's person is
:func:`~simulators.capture.subjects.simulation_seed` of it, so a later live finger matches."""

from __future__ import annotations

import base64
import contextlib
import json
import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
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


def write_export(niks: Iterable[str], out: Path, workers: int = 1) -> int:
    """Write one line per NIK, in order; ``workers`` > 1 renders in that many processes (the
    rendering is the cost: a chaos day's exports took a quarter of an hour on one core of a
    loaded machine)."""
    count = 0
    with out.open("w") as file, contextlib.ExitStack() as stack:
        lines: Iterable[str] = map(export_line, niks)
        if workers > 1:
            spawn = multiprocessing.get_context("spawn")
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=spawn))
            lines = pool.map(export_line, niks, chunksize=4)
        for line in lines:
            file.write(line + "\n")
            count += 1
    return count
