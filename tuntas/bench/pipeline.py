"""N synthetic applications through the real pipeline, timed from outside.

One run: ``up.running`` starts every stage as its own process (automatic staff, simulated
zero-delay hardware) on a database and topic prefix of the run's own; the registry extract is
imported as an operator would (``python -m services.validation.registry import``), each
station receives blank stock over its API, then applications are submitted over intake's HTTP
API, as fast as the desk answers (``rate=None``) or at a steady rate.

Figures:
- end to end: applications / (last ``card.ready_for_collection`` on the topic − first submit);
- latency per application: ``application.accepted`` (intake's history row, its commit time)
  → the ``card.ready_for_collection`` record's Kafka timestamp (its publication);
- per stage: applications a stage handed on / (its last − its first hand-over), from each
  stage's own history rows (notification: its applying of ``card.ready_for_collection``);
- per process: CPU seconds during the measured window and peak RSS (``/proc``).
The run ends with the effectively-once check (:mod:`tuntas.bench.checks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from aiokafka import ConsumerRecord

from schemas.residents import RegistryPerson
from schemas.topics import Topics
from services.runtime import db, kafka
from simulators.registry import generate_registry, write_file
from tuntas import staff, topology, up
from tuntas.bench import checks, procstats
from tuntas.stack import local
from tuntas.supervisor import Supervisor
from tuntas.tail import TopicTail

PORT_OFFSET = 1000  # beside a `tuntas up` (0) and the demo (0/500)
READY = "card.ready_for_collection"
# (stage, history state, direction): the row that says the stage is done with an application.
MARKERS: Sequence[tuple[str, str, str]] = (
    ("intake", "application.accepted", "out"),
    ("validation", "application.validated", "out"),
    ("biometric", "record.print_ready", "out"),
    ("card_production", READY, "out"),
    ("notification", READY, "in"),
)
KK_SCAN = "JVBERi0xLjQKMSAwIG9iaiA8PD4+IGVuZG9iagp0cmFpbGVyIDw8Pj4KJSVFT0YK"  # a tiny PDF


@dataclass(frozen=True)
class RunSpec:
    applications: int
    kecamatan: tuple[str, ...]
    rate: float | None = None  # applications/s; None: as fast as intake answers
    concurrency: int = 16  # HTTP submissions in flight (when rate is None)
    stall_seconds: float = 180.0  # no progress that long: the run fails
    profile_dir: Path | None = None  # py-spy samples of every service there
    port_offset: int = PORT_OFFSET
    processes: Mapping[str, int] = field(default_factory=dict)  # topology.Options.processes
    # More per-stage figures, named "<stage> <state> (<direction>)", after the five MARKERS.
    extra_markers: Sequence[tuple[str, str, str]] = ()
    # Run once when intake has accepted half the applications (e.g. a test's faults).
    midway: Callable[[Supervisor], Awaitable[None]] | None = None


@dataclass
class StageFigure:
    stage: str
    handed_on: int
    per_second: float
    first: float
    last: float


@dataclass
class ProcessFigure:
    name: str
    cpu_seconds: float
    peak_rss_mb: float


@dataclass
class RunResult:
    spec: RunSpec
    run_id: str
    submit_seconds: float  # first submit → last accepted by intake's HTTP API
    seconds: float  # first submit → last ready_for_collection on the topic
    latencies_ms: list[float]
    stages: list[StageFigure]
    processes: list[ProcessFigure]
    shared: dict[str, float]  # CPU seconds of the broker and the database server (shared!)
    driver_cpu_seconds: float
    mean_message_bytes: float
    messages_per_application: float
    checks: list[str]
    profile: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.spec.applications / self.seconds if self.seconds > 0 else 0.0

    @property
    def ms_per_application(self) -> float:
        return 1000 * self.seconds / self.spec.applications

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# ---------------------------------------------------------------- inputs


def applicants(
    kecamatan: Sequence[str], n: int, seed: int = 7
) -> tuple[list[tuple[str, RegistryPerson]], list[RegistryPerson]]:
    """``n`` distinct adult residents, spread round-robin over the kecamatan."""
    per = [
        n // len(kecamatan) + (1 if i < n % len(kecamatan) else 0) for i in range(len(kecamatan))
    ]
    chosen: list[list[RegistryPerson]] = []
    registry: list[RegistryPerson] = []
    cutoff = date.today().replace(year=date.today().year - 19)
    for index, (code, want) in enumerate(zip(kecamatan, per, strict=True)):
        families = max(4, math.ceil(want / 2.4) + 4)
        while True:
            people = generate_registry(code, families, seed=seed + index)
            adults = [p for p in people if p.birth_date <= cutoff]
            if len(adults) >= want:
                break
            families = math.ceil(families * 1.3)
        registry += people
        chosen.append(adults[:want])
    out = []
    for i in range(max(per, default=0)):
        for code, people in zip(kecamatan, chosen, strict=True):
            if i < len(people):
                out.append((code, people[i]))
    return out, registry


def body(code: str, person: RegistryPerson, n: int) -> bytes:
    return json.dumps(
        {
            "kecamatan": code,
            "officer_id": "petugas.bench",
            "application_type": "new",
            "applicant": person.applicant(phone=f"+62812{n:08d}").model_dump(mode="json"),
            "documents": {"kk_photocopy": {"kk_number": person.kk_number}},
            "kk_scan": {"content_base64": KK_SCAN, "content_type": "application/pdf"},
        }
    ).encode()


# ---------------------------------------------------------------- the run


async def run(
    spec: RunSpec,
    config: local.StackConfig,
    *,
    log: Callable[[str], None] = print,
    keep: bool = False,
) -> RunResult:
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid() % 1000:03d}"
    home = config.home / "bench" / run_id
    options = topology.Options(
        home=home,
        kecamatan=spec.kecamatan,
        topic_prefix=f"bench-{run_id}.",
        automatic_staff=True,
        run_name=f"bench-{run_id}",  # its own pcscd, readers and CUPS queues
        port_offset=spec.port_offset,
        database=f"bench_{run_id}",
        processes=spec.processes,
    )
    topics = Topics(options.topic_prefix)
    people, registry = applicants(spec.kecamatan, spec.applications)
    bodies = [body(code, person, n) for n, (code, person) in enumerate(people)]
    log(
        f"run {run_id}: {spec.applications} applications, {len(spec.kecamatan)} kecamatan,"
        f" {'steady ' + str(spec.rate) + '/s' if spec.rate else 'as fast as accepted'}"
    )
    # Every topic of the deployment in one request: 21 stations each creating theirs at start
    # can time the single broker out.
    endpoints = await asyncio.to_thread(local.up, config)
    await kafka.ensure_topics(
        endpoints.kafka_bootstrap,
        [(t.name, t.partitions) for t in topics.specs(spec.kecamatan)],
        replication=endpoints.replication_factor,  # 3 on a local cluster (this process has no env)
    )
    try:
        async with up.running(options, config) as supervisor:
            env = dict(supervisor.states["validation"].spec.env)
            # The operator's own access, not a stage's: on the local stack a stage's env names
            # its SASL listener and its row-level-security role, which sees its schema only.
            server = config.external_db or config.postgres().dsn
            dsn = urlsplit(server)._replace(path=f"/{options.database}").geturl()
            await _import_registry(registry, home / "registry.json", env)
            district = staff.login(env["TUNTAS_OIDC_ISSUER"], staff.DISTRICT_ADMIN)
            await _stock(options, spec, people, district)
            adjudicator = asyncio.ensure_future(_adjudicator(options, spec, district))
            try:
                return await _measure(
                    spec, options, config, topics, supervisor, bodies, dsn, run_id, log
                )
            finally:
                adjudicator.cancel()
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
            try:
                await _drop_database(config, options)
                await up.drop_topics(endpoints.kafka_bootstrap, options.topic_prefix)
            except Exception as error:  # never hide why the run itself failed
                print(f"  (could not clean up run {run_id}: {error})", file=sys.stderr)


async def _import_registry(registry: list[RegistryPerson], path: Path, env: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(registry, path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.validation.registry",
        "import",
        str(path),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"registry import failed: {out.decode()[-2000:]}")


async def _stock(
    options: topology.Options,
    spec: RunSpec,
    people: list[tuple[str, RegistryPerson]],
    auth: httpx.Auth,
) -> None:
    """Blanks for every station, booked by the district admin (it administers every office)."""
    per_kec = Counter(code for code, _ in people)
    async with httpx.AsyncClient(timeout=60, auth=auth) as client:
        for index, code in enumerate(spec.kecamatan):
            need = per_kec[code] + 20
            first = 10_000_000 * (index + 1)
            batch = 0
            while need > 0:
                size = min(need, 10_000)
                response = await client.post(
                    f"{topology.station_url(index, options)}/stock/batches",
                    json={
                        "batch_ref": f"BENCH-{code}-{batch}",
                        "first_serial": f"{first:09d}",
                        "last_serial": f"{first + size - 1:09d}",
                        "received_by": "petugas.bench",
                    },
                )
                response.raise_for_status()
                first += size
                need -= size
                batch += 1


async def _measure(
    spec: RunSpec,
    options: topology.Options,
    config: local.StackConfig,
    topics: Topics,
    supervisor: Supervisor,
    bodies: list[bytes],
    dsn: str,
    run_id: str,
    log: Callable[[str], None],
) -> RunResult:
    pids = {
        name: state.process.pid
        for name, state in supervisor.states.items()
        if state.process is not None and state.process.returncode is None
    }
    shared_at = shared_pids(config)
    before = {name: procstats.sample(pid) for name, pid in pids.items()}
    shared_before = {name: procstats.tree_cpu(pid) for name, pid in shared_at.items()}
    driver_before = time.process_time()
    stations = [f"card_production_{code}" for code in spec.kecamatan]
    watcher = _FinalTopic(
        config.external_kafka or config.kafka().bootstrap, topics.card_production_events
    )
    await watcher.start()
    profilers: dict[str, tuple[asyncio.subprocess.Process, Path]] = {}
    try:
        if spec.profile_dir is not None:
            profilers = await _start_profilers(spec.profile_dir, pids, run_id)
        started = time.time()
        issuer = supervisor.states["intake"].spec.env["TUNTAS_OIDC_ISSUER"]
        midway = asyncio.ensure_future(_midway(spec, dsn, supervisor))
        try:
            submitted, ids = await _submit(options, spec, bodies, issuer, run_id)
            log(f"  submitted {len(ids)} in {submitted - started:.1f}s")
            await _wait_done(spec, dsn, stations, watcher, log)
            await midway
        finally:
            midway.cancel()
        finished = watcher.last_ready
    finally:
        await watcher.stop()
        profile = await _stop_profilers(profilers)
    after = {name: procstats.sample(pid) for name, pid in pids.items()}
    processes = [
        ProcessFigure(name, a.cpu_seconds - b.cpu_seconds, a.peak_rss_mb)
        for name in pids
        if (a := after[name]) is not None and (b := before[name]) is not None
    ]
    shared = {
        name: procstats.tree_cpu(pid) - shared_before[name] for name, pid in shared_at.items()
    }
    driver_cpu = time.process_time() - driver_before
    accepted_at = await _accepted_at(dsn)
    latencies = [
        1000 * (watcher.ready_at[app] - accepted_at[app])
        for app in ids
        if app in watcher.ready_at and app in accepted_at
    ]
    stages = await _stage_figures(dsn, stations, MARKERS)
    stages += await _stage_figures(dsn, stations, spec.extra_markers, labelled=True)
    sources = await checks.stage_sources(dsn, stations)
    sources["final topic card.ready_for_collection"] = watcher.ready_ids
    verdicts = checks.verdict(ids, sources)
    volume = await _message_volume(dsn, stations)
    return RunResult(
        spec=spec,
        run_id=run_id,
        submit_seconds=submitted - started,
        seconds=finished - started,
        latencies_ms=latencies,
        stages=stages,
        processes=processes,
        shared=shared,
        driver_cpu_seconds=driver_cpu,
        mean_message_bytes=volume[0],
        messages_per_application=volume[1] / len(ids),
        checks=[v.summary() for v in verdicts],
        profile=profile,
    )


async def _midway(spec: RunSpec, dsn: str, supervisor: Supervisor) -> None:
    if spec.midway is None:
        return
    stage, state, direction = MARKERS[0]
    while True:
        conn = await db.connect(dsn, stage)
        try:
            accepted = await checks.count_marker(conn, state, direction)
        finally:
            await conn.close()
        if accepted >= spec.applications / 2:
            break
        await asyncio.sleep(0.2)
    await spec.midway(supervisor)


async def _submit(
    options: topology.Options, spec: RunSpec, bodies: list[bytes], issuer: str, run_id: str
) -> tuple[float, list[str]]:
    """Submit every application, as the district admin (every office's desk at once), spread
    over intake's processes as a load balancer would; return when the last was accepted, with
    their ids. A request whose process died is sent again to the next one with the same
    Idempotency-Key: one application, the same receipt."""
    urls = [f"{base}/applications" for base in topology.urls("intake", options)]
    ids: list[str] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    auth = staff.login(issuer, staff.DISTRICT_ADMIN)
    async with httpx.AsyncClient(timeout=120, limits=limits, auth=auth) as client:

        async def one(payload: bytes, n: int) -> None:
            headers = {"content-type": "application/json", "idempotency-key": f"{run_id}-{n}"}
            for attempt in range(8):
                url = urls[(n + attempt) % len(urls)]
                try:
                    response = await client.post(url, content=payload, headers=headers)
                except httpx.TransportError:
                    if attempt == 7:
                        raise
                    await asyncio.sleep(0.5)
                    continue
                if response.status_code in (200, 201):
                    ids.append(response.json()["application_id"])
                    return
                if response.status_code < 500 or attempt == 7:
                    raise RuntimeError(
                        f"intake refused a bench application: {response.status_code}"
                        f" {response.text[:500]}"
                    )

        if spec.rate is None:
            queue = list(reversed(list(enumerate(bodies))))

            async def worker() -> None:
                while queue:
                    n, payload = queue.pop()
                    await one(payload, n)

            await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
        else:
            loop = asyncio.get_running_loop()
            start = loop.time()
            tasks = []
            for n, payload in enumerate(bodies):
                delay = start + n / spec.rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.ensure_future(one(payload, n)))
            await asyncio.gather(*tasks)
    return time.time(), ids


class _FinalTopic(TopicTail):
    """Reads the final topic (card-production events) while the run goes: every
    ``card.ready_for_collection`` record's key and timestamp."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, [topic], max_records=5000)
        self.ready_ids: list[str] = []
        self.ready_at: dict[str, float] = {}
        self.last_ready = 0.0
        self.records = 0
        self.bytes = 0

    def on_record(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.records += 1
        self.bytes += len(record.value or b"")
        if dict(record.headers).get("type") == READY.encode():
            app = record.key.decode()
            at = record.timestamp / 1000
            self.ready_ids.append(app)
            self.ready_at.setdefault(app, at)
            self.last_ready = max(self.last_ready, at)


async def _adjudicator(options: topology.Options, spec: RunSpec, auth: httpx.Auth) -> None:
    """The automatic section head: the generated applicants are all different people, so a
    duplicate the 1:N search suspects is a false match, cleared (else the run stalls on it)."""
    urls = topology.urls("biometric", options)
    async with httpx.AsyncClient(timeout=30, auth=auth) as client:
        for turn in itertools.count():
            url = urls[turn % len(urls)]  # a process killed by a test: the next turn, another
            with contextlib.suppress(httpx.TransportError):
                for code in spec.kecamatan:
                    listed = await client.get(f"{url}/adjudication", params={"kecamatan": code})
                    for case in listed.json() if listed.status_code == 200 else []:
                        await client.post(
                            f"{url}/adjudication/{case['case_id']}",
                            json={"decision": "clear", "note": "bench: generated people differ"},
                        )
            await asyncio.sleep(0.5)


async def _wait_done(
    spec: RunSpec,
    dsn: str,
    stations: Sequence[str],
    watcher: _FinalTopic,
    log: Callable[[str], None],
) -> None:
    """Until every application is ready on the final topic and applied by notification."""
    last_counts: tuple[int, ...] = ()
    last_change = time.monotonic()
    last_log = 0.0
    while True:
        counts = (*await _progress(dsn, stations), len(watcher.ready_at))
        if counts != last_counts:
            last_counts, last_change = counts, time.monotonic()
        if time.monotonic() - last_log > 10:
            last_log = time.monotonic()
            names = [m[0] for m in MARKERS] + ["final topic"]
            log("  " + "  ".join(f"{n}={c}" for n, c in zip(names, counts, strict=True)))
        if all(c >= spec.applications for c in counts):
            return
        if time.monotonic() - last_change > spec.stall_seconds:
            raise RuntimeError(f"no progress for {spec.stall_seconds:.0f}s: {counts}")
        await asyncio.sleep(0.5)


async def _progress(dsn: str, stations: Sequence[str]) -> list[int]:
    out = []
    for stage, state, direction in MARKERS:
        total = 0
        for schema in stations if stage == "card_production" else [stage]:
            conn = await db.connect(dsn, schema)
            try:
                total += await checks.count_marker(conn, state, direction)
            finally:
                await conn.close()
        out.append(total)
    return out


async def _accepted_at(dsn: str) -> dict[str, float]:
    conn = await db.connect(dsn, "intake")
    try:
        rows = await conn.fetch(
            "SELECT application_id, at FROM application_history"
            " WHERE state = 'application.accepted' AND direction = 'out'"
        )
    finally:
        await conn.close()
    return {row["application_id"]: row["at"].timestamp() for row in rows}


async def _stage_figures(
    dsn: str,
    stations: Sequence[str],
    markers: Sequence[tuple[str, str, str]],
    labelled: bool = False,
) -> list[StageFigure]:
    figures = []
    for stage, state, direction in markers:
        times: list[datetime] = []
        for schema in stations if stage == "card_production" else [stage]:
            conn = await db.connect(dsn, schema)
            try:
                rows = await conn.fetch(
                    "SELECT at FROM application_history WHERE state = $1 AND direction = $2",
                    state,
                    direction,
                )
            finally:
                await conn.close()
            times += [row["at"] for row in rows]
        first = min(times).timestamp() if times else 0.0
        last = max(times).timestamp() if times else 0.0
        span = last - first
        name = f"{stage} {state} ({direction})" if labelled else stage
        figures.append(
            StageFigure(name, len(times), len(times) / span if span > 0 else 0.0, first, last)
        )
    return figures


async def _message_volume(dsn: str, stations: Sequence[str]) -> tuple[float, int]:
    """Mean payload bytes and number of events the stages published (from their outboxes)."""
    total_bytes, total = 0, 0
    for schema in ["intake", "validation", "biometric", "notification", *stations]:
        conn = await db.connect(dsn, schema)
        try:
            row = await conn.fetchrow(
                "SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox"
            )
        finally:
            await conn.close()
        assert row is not None
        total += int(row[0])
        total_bytes += int(row[1])
    return (total_bytes / total if total else 0.0), total


def shared_pids(config: local.StackConfig) -> dict[str, int]:
    """This stack's broker and database server: shared with anything else that uses it."""
    out: dict[str, int] = {}
    if not config.external_kafka:
        kafka = procstats.find_pids(f"{config.home / 'kafka'}/server.properties")
        if kafka:
            out["kafka broker (shared)"] = kafka[0]
    if not config.external_db:
        postgres = procstats.find_pids(f"-D {config.home / 'postgres' / 'data'}")
        if postgres:
            out["postgresql (shared)"] = min(postgres)
    return out


async def _drop_database(config: local.StackConfig, options: topology.Options) -> None:
    endpoints = await asyncio.to_thread(local.up, config)
    assert options.database is not None
    try:
        await up.drop_database(endpoints.database_url, options.database)
    except Exception as error:  # a leftover database is harmless; say so
        print(f"  (could not drop database {options.database}: {error})", file=sys.stderr)


# ---------------------------------------------------------------- profiling (py-spy)


async def _start_profilers(
    directory: Path, pids: dict[str, int], run_id: str
) -> dict[str, tuple[asyncio.subprocess.Process, Path]]:
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    out = {}
    for name, pid in pids.items():
        if name == "smsc":
            continue
        path = directory / f"{name}.collapsed.txt"
        proc = await asyncio.create_subprocess_exec(
            spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "50",
            "--format",
            "raw",
            "--output",
            str(path),
            "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out[name] = (proc, path)
    return out


async def _stop_profilers(
    profilers: dict[str, tuple[asyncio.subprocess.Process, Path]],
) -> dict[str, list[tuple[str, float]]]:
    import signal

    for proc, _ in profilers.values():
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
    summary = {}
    for name, (proc, path) in profilers.items():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 30)
        if path.exists():
            text = path.read_text()
            summary[name] = profile_areas(text)
            summary[f"{name} (innermost own frames)"] = summarise_profile(text)
    return summary


# Where a sample is, by the first rule one of its frames matches (order matters).
PROFILE_AREAS: Sequence[tuple[str, tuple[str, ...]]] = (
    ("dedupe 1:N (decrypt and match every stored record)", ("dedupe.py", "templates_for_matching")),
    ("simulated capture devices (render PNG/JPEG)", ("simulators/capture/",)),
    ("fingerprint template extraction", ("fingerprint_template",)),
    ("capture quality checks", ("biometric/quality.py",)),
    ("card rendering (reportlab, PIL)", ("hardware/render.py",)),
    ("faust (timeline, SLA windows)", ("faust/", "mode/")),
    ("PostgreSQL client (asyncpg)", ("asyncpg/",)),
    ("Kafka client (aiokafka)", ("aiokafka/",)),
    (
        "HTTP server (uvicorn, starlette, fastapi, h11)",
        ("uvicorn/", "starlette/", "fastapi/", "h11/"),
    ),
    ("pydantic", ("pydantic",)),
)


def profile_areas(collapsed: str) -> list[tuple[str, float]]:
    """Share of the samples (%) per area of :data:`PROFILE_AREAS`; idle is its own area."""
    totals: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(("EpollSelector.select", "select (")):
            area = "idle (event loop waiting in select)"
        else:
            area = next(
                (name for name, needles in PROFILE_AREAS if any(n in stack for n in needles)),
                "other (asyncio, the project's own code)",
            )
        totals[area] += int(count)
    grand = sum(totals.values()) or 1
    return [(area, 100 * n / grand) for area, n in totals.most_common()]


def summarise_profile(collapsed: str, top: int = 12) -> list[tuple[str, float]]:
    """Share of the samples (%) per *where*: the innermost frame of the project's own code
    (``services/``, ``schemas/``, ``tuntas/``), then the library the sample was in."""
    totals: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        totals[_where(stack.split(";"))] += int(count)
    grand = sum(totals.values()) or 1
    return [(where, 100 * n / grand) for where, n in totals.most_common(top)]


_OWN = ("services/", "schemas/", "tuntas/")
# asyncio.run's callers: every event-loop callback is under them
_NOT_OWN = ("main (services/runtime/service.py", "<module> (")
_PLUMBING = ("asyncio/", "selectors.py", "threading.py", "concurrent/", "<frozen", "runpy.py")


def _where(frames: list[str]) -> str:
    leaf = frames[-1] if frames else "?"
    if leaf.startswith(("EpollSelector.select", "select (")):
        return "event loop: waiting in select (idle)"
    own = next(
        (f for f in reversed(frames) if _file(f).startswith(_OWN) and not f.startswith(_NOT_OWN)),
        None,
    )
    library = _top(leaf)
    if own is None:
        # a loop callback: name the library whose frame is nearest the leaf
        named = next((f for f in reversed(frames) if not _file(f).startswith(_PLUMBING)), leaf)
        return f"event-loop callbacks of {_top(named)} → {library}"
    name, _, _ = own.partition(" (")
    where = f"{name} ({_file(own)})"
    return where if _file(leaf).startswith(_OWN) else f"{where} → {library}"


def _top(frame: str) -> str:
    path = _file(frame)
    return path.split("/", 1)[0] if "/" in path else path


def _file(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``path/to/file.py``."""
    _, _, rest = frame.partition(" (")
    return rest.rsplit(":", 1)[0].rstrip(")")
