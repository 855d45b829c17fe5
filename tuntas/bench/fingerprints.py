"""The fingerprint template's bench (``python -m tuntas.bench.fingerprints``), on prints the
capture simulator renders (docs/abis.md):

- ``--one-to-one N``: card activation's 1:1 match (``services.card_production.fingerprint.
  best_score``) for N simulated people: the chip holds the first impressions of the right and
  left index fingers, the live finger is a third impression of the right index (as the demo
  presents it); genuine = a person's live finger against their own chip, impostor = against
  every other person's chip. Percentiles, and the impostor pairs at or above the threshold.
- ``--image-work N``: the biometric stage's image work (``services.biometric.enrolment.enrol``:
  quality gates + ten templates per application) for N pre-rendered applications, 4 at a
  time, with threads and with a pool of 2 worker processes (as the stage runs it):
  applications/s and CPU ms per application in the stage's process; ``--repeat`` runs each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import numpy as np

from schemas.fingerprint import fingerprint_template
from services.biometric.enrolment import enrol
from services.biometric.items import ALL_ITEMS, Capture
from services.biometric.quality import QualityPolicy
from services.card_production.fingerprint import best_score
from services.card_production.settings import CardProductionSettings
from simulators.capture.render import render

CHIP = ("finger.right_index", "finger.left_index")
LIVE = ("finger.right_index", 3)


def _person(n: int) -> tuple[tuple[bytes, ...], bytes]:
    seed = f"one-to-one-{n}"
    chip = tuple(fingerprint_template(render(seed, item, 1).data) for item in CHIP)
    return chip, fingerprint_template(render(seed, *LIVE).data)


def spread(scores: Any) -> dict[str, float]:
    """Percentiles of a score distribution (also the 1:N bench's real path)."""
    points = (0, 1, 5, 50, 95, 99, 99.9, 100)
    return {f"p{p:g}": round(float(np.percentile(scores, p)), 1) for p in points}


def one_to_one(people: int) -> dict[str, Any]:
    with ProcessPoolExecutor(2) as pool:
        made = list(pool.map(_person, range(people), chunksize=8))
    scores = np.array([[best_score(live, chip) for chip, _ in made] for _, live in made])
    genuine, impostor = np.diag(scores), scores[~np.eye(people, dtype=bool)]
    threshold = CardProductionSettings.model_fields["match_threshold"].default
    return {
        "people": people,
        "genuine": spread(genuine),
        "impostor": spread(impostor),
        "impostor_pairs": int(impostor.size),
        "match_threshold": threshold,
        "genuine_below_threshold": int((genuine < threshold).sum()),
        "impostor_at_or_above": {t: int((impostor >= t).sum()) for t in (30, 40, 50, threshold)},
    }


def _application(n: int) -> dict[str, Capture]:
    seed = f"image-work-{n}"
    out = {}
    for item in ALL_ITEMS:
        found = render(seed, item, 1)
        out[item] = Capture(item, found.data, found.media_type, found.quality)
    return out


async def _run(applications: Sequence[dict[str, Capture]], pool: Executor | None) -> None:
    gate = asyncio.Semaphore(4)
    policy = QualityPolicy()

    async def one(captures: dict[str, Capture]) -> None:
        async def take(item: str) -> Capture | None:
            return captures[item]

        async with gate:
            await enrol(take, policy, pool=pool)

    await asyncio.gather(*(one(a) for a in applications))


def image_work(count: int, repeat: int) -> dict[str, Any]:
    with ProcessPoolExecutor(2) as renderers:
        applications = list(renderers.map(_application, range(count)))
    spawn = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {"applications": count, "concurrent": 4}
    for name, workers in (("threads", 0), ("2_processes", 2)):
        rates, cpus = [], []
        pool = ProcessPoolExecutor(workers, mp_context=spawn) if workers else None
        try:
            if pool is not None:  # start the workers (and their imports) before timing
                list(pool.map(abs, range(workers)))
            for _ in range(repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                asyncio.run(_run(applications, pool))
                rates.append(count / (time.perf_counter() - wall))
                cpus.append(1000 * (time.process_time() - cpu) / count)
        finally:
            if pool is not None:
                pool.shutdown()
        out[name] = {
            "applications_per_s_median": round(statistics.median(rates), 2),
            "applications_per_s": [round(r, 2) for r in rates],
            "stage_process_cpu_ms_per_application_median": round(statistics.median(cpus), 1),
        }
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tuntas.bench.fingerprints")
    parser.add_argument("--one-to-one", type=int, default=0, metavar="PEOPLE")
    parser.add_argument("--image-work", type=int, default=0, metavar="APPLICATIONS")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    if args.one_to_one:
        report["one_to_one"] = one_to_one(args.one_to_one)
    if args.image_work:
        report["image_work"] = image_work(args.image_work, args.repeat)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
