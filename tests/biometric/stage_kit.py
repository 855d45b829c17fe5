"""Running the biometric stage in-process against real Kafka and PostgreSQL, for the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from schemas.application import ApplicationType
from schemas.envelope import Envelope, parse_event
from schemas.events import ApplicationValidated
from schemas.samples import APPLICANT
from schemas.topics import Topics
from services.abis.main import serve as serve_abis
from services.abis.settings import AbisSettings
from services.biometric.main import serve
from services.biometric.settings import BiometricSettings
from services.runtime.service import Runtime
from tests.kit.payloads import envelope
from tests.kit.stage import connections, serving
from tests.kit.tokens import As, staff
from tests.kit.topics import publish
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port

KEC, OTHER_KEC = "350805", "350806"


def validated(
    nik_: str, application_type: ApplicationType = ApplicationType.NEW, name: str = "Siti Aminah"
) -> ApplicationValidated:
    applicant = APPLICANT.model_copy(update={"nik": nik_, "name": name})
    return ApplicationValidated(
        revision=1,
        tracking_number=f"TPH-{uuid.uuid4().hex[:8].upper()}",
        application_type=application_type,
        applicant=applicant,
        officer_id="kasi.tempeh",
    )


@dataclass
class Collector:
    """Every record on the given topics, read from the start, as (topic, raw value)."""

    bootstrap: str
    topics: list[str]
    raw: list[tuple[str, bytes]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()

        async def loop() -> None:
            try:
                while True:
                    batch = await consumer.getmany(timeout_ms=200)
                    for records in batch.values():
                        self.raw += [(r.topic, r.value) for r in records]
            finally:
                await consumer.stop()

        self._task = asyncio.ensure_future(loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def events(self, application_id: uuid.UUID | None = None) -> list[tuple[str, Envelope]]:
        # Two topics (stage events, print-ready) have no order between them: the envelopes'
        # occurred_at gives the order the stage made them in (a stable sort keeps ties).
        out = sorted(((t, parse_event(v)) for t, v in self.raw), key=lambda te: te[1].occurred_at)
        return [
            (t, e) for t, e in out if application_id is None or e.application_id == application_id
        ]

    def types(self, application_id: uuid.UUID) -> list[str]:
        return [e.type for _, e in self.events(application_id)]

    async def wait_types(
        self, application_id: uuid.UUID, *types: str, timeout: float = 30.0
    ) -> list[tuple[str, Envelope]]:
        await wait_for(
            lambda: set(types) <= set(self.types(application_id)),
            timeout=timeout,
            what=f"events {types} of {application_id}",
        )
        return self.events(application_id)


@dataclass
class Stage:
    runtime: Runtime
    http: httpx.AsyncClient
    topics: Topics
    bootstrap: str
    out: Collector
    keys: str
    device_url: str
    abis: httpx.AsyncClient  # the ABIS's own API (GET /gallery)

    async def sit(self, seed: str, kecamatan: str = KEC, **subject: Any) -> None:
        """Who sits down at the station's devices next (the simulator's control endpoint)."""
        url = self.device_url.format(kecamatan=kecamatan) + "/subject"
        async with httpx.AsyncClient() as http:
            response = await http.put(url, json={"seed": seed, **subject})
        assert response.status_code == 204, response.text

    async def send_validated(
        self, payload: ApplicationValidated, kecamatan: str = KEC
    ) -> uuid.UUID:
        event = envelope(payload, kecamatan=kecamatan)
        await publish(self.bootstrap, self.topics, event)
        return event.application_id

    async def queued(self, application_id: uuid.UUID, kecamatan: str = KEC) -> None:
        async def listed() -> bool:
            response = await self.http.get("/queue", params={"kecamatan": kecamatan})
            return str(application_id) in {i["application_id"] for i in response.json()}

        await wait_for(listed, what=f"{application_id} in the recording queue")

    async def capture(self, application_id: uuid.UUID, **body: Any) -> httpx.Response:
        return await self.http.post(f"/queue/{application_id}/capture", json=body, timeout=60)


async def all_prefixed_records(bootstrap: str, prefix: str) -> list[tuple[str, bytes | None]]:
    """Every record of every topic under ``prefix`` (DLQs included)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        described = await admin.describe_topics(names) if names else []
    finally:
        await admin.close()
    # Explicit assignment: a group-less subscription has no partitions until its first
    # metadata refresh, which made this read see nothing now and then.
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list[tuple[str, bytes | None]] = []
    try:
        if not tps:
            return out
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        pending = {tp for tp, end in ends.items() if end > 0}
        while pending:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                out += [(tp.topic, r.value) for r in records]
                out += [(tp.topic, r.key) for r in records]
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return out


def _user(request: httpx.Request) -> str:
    """Tempeh's recording operator, its section head for adjudication; card data goes to the
    station of the ``kecamatan`` the request names (the service reads the token's claim)."""
    path = request.url.path
    if path.endswith("/card-data"):
        return f"station-{request.url.params.get('kecamatan', KEC)}"
    return staff("kasi" if path.startswith("/adjudication") else "operator")


@contextlib.asynccontextmanager
async def running_stage(
    *,
    kafka_bootstrap: str,
    pg_dsn: str,
    db_schema: str,
    topic_prefix: str,
    home: Path,
    device_url: str,
    **knobs: Any,
) -> AsyncIterator[Stage]:
    """The stage served with Tuntas's ABIS beside it (its own schema, the local realm's
    ``svc-abis`` client), the stage's client sending as Tempeh's staff. The test must use
    ``oidc_env``."""
    from services.biometric.crypto import new_master_key

    keys = knobs.pop("master_keys", f"1:{new_master_key()}")
    settings = BiometricSettings(
        connections=connections(kafka_bootstrap, pg_dsn, topic_prefix),
        db_schema=db_schema,
        http_port=0,
        kecamatan_codes=f"{KEC},{OTHER_KEC}",
        master_keys=SecretStr(keys),
        home=home,
        device_url=device_url,
        **knobs,
    )
    abis = AbisSettings(
        connections=settings.connections,
        db_schema=f"{db_schema}_abis",
        http_port=0,
        home=home,
        oidc_client_secret="local-only-svc-abis",
    )
    topics = Topics(topic_prefix)
    try:
        # The ABIS stops first: it fetches references from the stage, and an insert in flight
        # waits for a stage that has gone (it retries until the stage answers again).
        async with serving(serve, settings) as served, serving(serve_abis, abis) as abis_served:
            served.http.auth = As(os.environ["TUNTAS_OIDC_ISSUER"], _user)
            out = Collector(kafka_bootstrap, [topics.biometric_events, topics.print_ready(KEC)])
            await out.start()
            try:
                yield Stage(
                    served.runtime,
                    served.http,
                    topics,
                    kafka_bootstrap,
                    out,
                    keys,
                    device_url,
                    abis_served.http,
                )
            finally:
                await out.stop()
    finally:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{abis.db_schema}" CASCADE')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def capture_devices(*args: str) -> AsyncIterator[str]:
    """The capture device simulator as its own process (``args``: more of its options); its
    URL template."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulators.capture", "--port", str(port), *args
    )
    base = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        assert proc.returncode is None, "the capture device service exited"
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{base}/health")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(up, timeout=30, what="the capture device service")
        yield base + "/{kecamatan}"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
