"""The biometric stage on its own (``python -m tuntas.bench.biometric``): N validated
applications through capture, quality gates, templates, the sealed record and the ABIS's
1:N insert and identify, to ``record.print_ready``.

What runs: the biometric stage (its automatic operator capturing ``--concurrency``
applicants at once, ``--image-workers`` worker processes), Tuntas's ABIS, and the capture
device simulator serving a library of people rendered beforehand (``simulators.capture.
library``: a real scanner hands over its images at no CPU cost to the host; rendering them
here would take more CPU than the stage). Real Kafka, PostgreSQL and Keycloak from the local
stack; the run's own database and topics, dropped afterwards.

``--enrolled FILE`` imports an export before the applications, outside the measure (then
``VACUUM (ANALYZE)``, as after any bulk load), so the applicants are searched against a
gallery of that size (cost per application as enrolment grows). The export's people are not
the applicants: an applicant held as a suspected duplicate is a false match, counted.

``--earlier FILE`` measures the district's import instead: the same processes (without
captures), ``python -m services.biometric.earlier`` run as its own process with the stage's
environment, and the time until the ABIS's index holds every record it stored.

The N ``application.validated`` events are published first, as validation would have; the
clock runs from the first to the last ``record.print_ready`` in the stage's history (its
rate once running), and from the first publication (with the start of the queue). The run
fails unless every application is ready exactly once and none was taken for a duplicate
(of another applicant; of an enrolled record, with ``--enrolled``, it is counted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer

from schemas.application import ApplicationType
from schemas.envelope import Envelope
from schemas.events import ApplicationValidated
from schemas.samples import APPLICANT
from schemas.topics import Topics
from services.runtime import db, kafka
from simulators.capture import library
from tuntas import topology, up
from tuntas.bench import procstats
from tuntas.bench.pipeline import PORT_OFFSET, shared_pids
from tuntas.stack import local
from tuntas.supervisor import Supervisor

PROCESSES = ("biometric", "abis", "capture-devices")
TEMPEH = topology.TEMPEH
READY = "record.print_ready"


def validated_events(count: int) -> list[Envelope]:
    """``count`` applicants of Tempeh, validated, each with a NIK of their own (women born on
    1 July 1960, 1961, …: 9,999 serials a year)."""
    out = []
    for n in range(count):
        year, serial = divmod(n, 9_999)
        nik = f"{TEMPEH}4107{60 + year:02d}{serial + 1:04d}"
        applicant = APPLICANT.model_copy(update={"nik": nik})
        payload = ApplicationValidated(
            revision=1,
            tracking_number=f"TPH-BENCH-{n:05d}",
            application_type=ApplicationType.NEW,
            applicant=applicant,
            officer_id="kasi.tempeh",
        )
        out.append(Envelope.new(payload, application_id=uuid4(), kecamatan=TEMPEH))
    return out


async def _publish(bootstrap: str, topic: str, events: Sequence[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, e.to_bytes(), key=str(e.correlation_id).encode())
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _progress(dsn: str) -> dict[str, int]:
    conn = await db.connect(dsn, "biometric")
    try:
        rows = await conn.fetch("SELECT state, count(*) AS n FROM applications GROUP BY state")
    finally:
        await conn.close()
    return {row["state"]: int(row["n"]) for row in rows}


async def _ready_times(dsn: str) -> list[float]:
    conn = await db.connect(dsn, "biometric")
    try:
        rows = await conn.fetch(
            "SELECT at FROM application_history WHERE state = $1 AND direction = 'out'", READY
        )
    finally:
        await conn.close()
    return sorted(row["at"].timestamp() for row in rows)


@contextlib.asynccontextmanager
async def _deployment(
    config: local.StackConfig,
    port_offset: int,
    only: Sequence[str],
    **settings: Any,
) -> AsyncIterator[tuple[topology.Options, Supervisor, str]]:
    """``only`` these processes of a deployment of the run's own (database, topics, home),
    with ``settings`` (``topology.Options`` fields); all of it removed afterwards."""
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid() % 1000:03d}"
    home = config.home / "bench" / run_id
    options = topology.Options(
        home=home,
        topic_prefix=f"bench-{run_id}.",
        automatic_staff=True,
        run_name=f"bench-{run_id}",
        port_offset=port_offset,
        database=f"bench_{run_id}",
        **settings,
    )
    topics = Topics(options.topic_prefix)
    endpoints = await asyncio.to_thread(local.up, config)
    await kafka.ensure_topics(
        endpoints.kafka_bootstrap,
        [(t.name, t.partitions) for t in topics.specs(options.kecamatan)],
        replication=endpoints.replication_factor,
    )
    try:
        async with up.running(options, config, only=only) as supervisor:
            yield options, supervisor, endpoints.kafka_bootstrap
    finally:
        shutil.rmtree(home, ignore_errors=True)
        try:
            await up.drop_database(endpoints.database_url, options.database or "")
            await up.drop_topics(endpoints.kafka_bootstrap, options.topic_prefix)
        except Exception as error:  # never hide why the run itself failed
            print(f"  (could not clean up run {run_id}: {error})", file=sys.stderr)


class _CpuMeter:
    """CPU seconds of the run's processes (with their workers) and of the stack's broker and
    database server, from now on."""

    def __init__(self, config: local.StackConfig, supervisor: Supervisor) -> None:
        self.pids = {n: s.process.pid for n, s in supervisor.states.items() if s.process}
        self._all = {**self.pids, **shared_pids(config)}
        self._before = {n: procstats.tree_cpu(p) for n, p in self._all.items()}

    def spent(self) -> dict[str, float]:
        return {n: procstats.tree_cpu(p) - self._before[n] for n, p in self._all.items()}


async def run(
    config: local.StackConfig,
    count: int,
    *,
    concurrency: int,
    image_workers: int,
    folder: Path,
    port_offset: int = PORT_OFFSET,
    stall_seconds: float = 180.0,
    enrolled: Path | None = None,
) -> dict[str, Any]:
    """One run; ``folder`` must hold ``count`` people (``library.extend``). With ``enrolled``
    (an export), its records are imported first, outside the measure: the gallery the
    applicants are searched against."""
    events = validated_events(count)
    stage_env = {
        "TUNTAS_BIOMETRIC_AUTO_CAPTURE_CONCURRENCY": str(concurrency),
        "TUNTAS_BIOMETRIC_IMAGE_WORKERS": str(image_workers),
    }
    async with _deployment(
        config, port_offset, PROCESSES, capture_library=folder, stage_env={"biometric": stage_env}
    ) as (options, supervisor, bootstrap):
        server = config.external_db or config.postgres().dsn
        dsn = urlsplit(server)._replace(path=f"/{options.database}").geturl()
        gallery = 0
        if enrolled is not None:
            gallery = await _abis_holds(
                topology.url("abis", options), await _load(supervisor, enrolled)
            )
            await _vacuum(dsn)
        meter = _CpuMeter(config, supervisor)
        started = time.time()
        topic = Topics(options.topic_prefix).for_event("application.validated", TEMPEH)
        await _publish(bootstrap, topic, events)
        # the export's people are others than the applicants: a suspicion is a false match
        states = await _wait(dsn, count, stall_seconds, suspicions=enrolled is not None)
        cpu = meter.spent()
        rss = {n: s.peak_rss_mb for n, p in meter.pids.items() if (s := procstats.sample(p))}
        ready = await _ready_times(dsn)
    span = ready[-1] - ready[0] if len(ready) > 1 else 0.0
    return {
        "applications": count,
        "enrolled_before": gallery,
        "false_matches": states.get("duplicate_suspected", 0),
        "concurrency": concurrency,
        "image_workers": image_workers,
        "states": states,
        "ready_once": len(ready),
        "stage_applications_per_s": round((len(ready) - 1) / span, 2) if span else 0.0,
        "from_publication_applications_per_s": round(count / (ready[-1] - started), 2),
        "seconds": round(ready[-1] - started, 1),
        "cpu_ms_per_application": {n: round(1000 * s / count, 1) for n, s in cpu.items()},
        "peak_rss_mb": {n: round(v) for n, v in rss.items()},
        "load_average": os.getloadavg(),
    }


async def import_earlier(
    config: local.StackConfig, records_file: Path, port_offset: int = PORT_OFFSET
) -> dict[str, Any]:
    """One import of ``records_file`` through the loader, and the ABIS catching up."""
    async with _deployment(config, port_offset, ("biometric", "abis")) as (
        options,
        supervisor,
        _,
    ):
        meter = _CpuMeter(config, supervisor)
        children = _children_cpu()
        started = time.monotonic()
        stored = await _load(supervisor, records_file)
        loaded = time.monotonic() - started
        cpu_loader = _children_cpu() - children  # the loader and its parsing workers
        print(f"  loaded in {loaded:.1f} s", file=sys.stderr)
        held = await _abis_holds(topology.url("abis", options), stored)
        total = time.monotonic() - started
        cpu = meter.spent()
    return {
        "records_stored": stored,
        "abis_references": held,
        "load_seconds": round(loaded, 1),
        "abis_done_after_load_seconds": round(total - loaded, 1),
        "total_seconds": round(total, 1),
        "records_per_s": round(stored / total, 1),
        "cpu_seconds": {"loader": round(cpu_loader, 1)} | {n: round(v, 1) for n, v in cpu.items()},
        "load_average": os.getloadavg(),
    }


async def _load(supervisor: Supervisor, records_file: Path) -> int:
    """``python -m services.biometric.earlier`` as its own process, with the running stage's
    environment; the number of records it stored."""
    env = {**os.environ, **supervisor.states["biometric"].spec.env}
    loader = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.biometric.earlier", "--kecamatan", TEMPEH,
        "--records-file", str(records_file), env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await loader.communicate()
    if loader.returncode != 0:
        raise RuntimeError(f"the loader exited {loader.returncode}")
    print(f"  {out.decode().strip()}", file=sys.stderr)
    return int(out.split()[1])


async def _vacuum(dsn: str) -> None:
    """What a district's DBA runs after a bulk load (and autovacuum would do, in the middle of
    the measure): the run's tables vacuumed and analysed."""
    conn = await db.connect(dsn, "biometric")
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _abis_holds(abis_url: str, count: int, stall_seconds: float = 300.0) -> int:
    """Until the ABIS's index holds ``count`` references (its ``GET /gallery``)."""
    last, moved = -1, time.monotonic()
    async with httpx.AsyncClient(base_url=abis_url, timeout=30) as http:
        while True:
            held = int((await http.get("/gallery")).json()["references"])
            if held >= count:
                return held
            if held != last:
                last, moved = held, time.monotonic()
            elif time.monotonic() - moved > stall_seconds:
                raise RuntimeError(f"the ABIS holds {held} of {count} for {stall_seconds:.0f} s")
            await asyncio.sleep(1.0)


async def _wait(
    dsn: str, count: int, stall_seconds: float, suspicions: bool = False
) -> dict[str, int]:
    """Until every application is ready, or with ``suspicions`` held for a suspected
    duplicate; fails on anything else, or when nothing moves."""
    ended = {"print_ready", "duplicate_suspected"} if suspicions else {"print_ready"}
    last, moved = -1, time.monotonic()
    while True:
        states = await _progress(dsn)
        done = sum(n for s, n in states.items() if s not in ("queued", "dedupe_pending"))
        if done != last:
            print(f"  {done}/{count}: {states}", file=sys.stderr)
            last, moved = done, time.monotonic()
        if done >= count:
            if not set(states) <= ended:
                raise RuntimeError(f"not every application went to print: {states}")
            return states
        if time.monotonic() - moved > stall_seconds:
            raise RuntimeError(f"no progress for {stall_seconds:.0f} s: {states}")
        await asyncio.sleep(1.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuntas.bench.biometric")
    parser.add_argument("--applications", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8, help="applicants captured at once")
    parser.add_argument("--image-workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median is reported")
    parser.add_argument(
        "--library",
        type=Path,
        default=local.StackConfig.from_env().home / "capture-library",
        help="people rendered beforehand (extended to --applications, both cores)",
    )
    parser.add_argument("--port-offset", type=int, default=PORT_OFFSET)
    parser.add_argument(
        "--earlier", type=Path, metavar="FILE", help="time the import of this export instead"
    )
    parser.add_argument(
        "--enrolled",
        type=Path,
        metavar="FILE",
        help="import this export before each run (not measured): the gallery already enrolled",
    )
    args = parser.parse_args(argv)
    if args.earlier:
        config = local.StackConfig.from_env()
        result = asyncio.run(import_earlier(config, args.earlier, args.port_offset))
        print(json.dumps(result, indent=2))
        return 0
    if not 2 <= args.applications <= 39 * 9_999:
        parser.error("--applications: from 2 to 389,961 (the NIKs' serials)")
    rendered = library.extend(
        args.library,
        args.applications,
        progress=lambda n: print(f"  library: {n} people rendered", file=sys.stderr),
    )
    print(f"library {args.library}: {args.applications} people ({rendered} new)", file=sys.stderr)
    runs = [
        asyncio.run(
            run(
                local.StackConfig.from_env(),
                args.applications,
                concurrency=args.concurrency,
                image_workers=args.image_workers,
                folder=args.library,
                port_offset=args.port_offset,
                enrolled=args.enrolled,
            )
        )
        for _ in range(args.repeat)
    ]
    rates = [r["stage_applications_per_s"] for r in runs]
    print(
        json.dumps(
            {"stage_applications_per_s_median": statistics.median(rates), "runs": runs}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
