"""The ABIS operations (MOSIP's): insert, identify, delete, ping, pending jobs.

Insert fetches the reference's templates from its reference URL (biometric data never
travels on Kafka), seals them into the gallery table and adds their embedding to the index;
identify searches the index with the embedding of a reference already inserted. Each request
is answered with one ``abis.responded`` in the consume batch's transaction, except
``insert_batch`` (a district's earlier records, hundreds of thousands): it is kept as a job
and answered by the background worker at the end when the whole batch is in. The index changes
as the request is handled: a batch that rolls back and is redelivered re-inserts the same
reference, which replaces its earlier label. Identify first reads the gallery's changes made
by the other instances (``follow.py``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray

from schemas.envelope import Envelope, parse_event
from schemas.events import AbisOperation, AbisRequested, AbisResponded
from schemas.fingerprint import TemplateError
from schemas.topics import Topics
from services.abis import rules, store
from services.abis.follow import Follower
from services.abis.index import DEDUPE_FINGERS, GalleryIndex, embed, fields
from services.abis.sealing import GalleryKey
from services.runtime import outbox
from services.runtime.db import Conn
from services.runtime.messages import Emit
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.abis")


class Refused(Exception):
    """The request cannot be served; ``code`` is the response's failure reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ReferenceUnreachable(ConnectionError):
    """The stage serving a reference URL is down or restarting (the prefixes admit only the
    configured stages): retried, then the request redelivered after a restart, never refused."""


_PASSING_STATUS = frozenset({502, 503, 504})


@dataclass
class Abis:
    topics: Topics
    key: GalleryKey
    index: GalleryIndex
    http: httpx.AsyncClient
    reference_prefixes: tuple[str, ...]
    batch_page: int = 5_000  # references per page of a batch document
    batch_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    follower: Follower = field(init=False)

    def __post_init__(self) -> None:
        self.follower = Follower(self.key, self.index)


async def handle(abis: Abis, event: Envelope, request: AbisRequested, conn: Conn) -> list[Emit]:
    if request.operation is AbisOperation.INSERT_BATCH:  # answered by the batch worker
        await store.add_batch_job(conn, request.request_id, event.model_dump(mode="json"))
        abis.batch_wakeup.set()
        return []
    operation = _OPERATIONS[request.operation]
    answer = await _answer(request, lambda done: operation(abis, request, conn, done))
    return [Emit(abis.topics.abis_responses, event.caused(answer))]


async def _answer(
    request: AbisRequested, work: Callable[[AbisResponded], Awaitable[AbisResponded]]
) -> AbisResponded:
    """The response to ``request``: what ``work`` makes of a success, or the refusal."""
    answer = AbisResponded(
        operation=request.operation,
        request_id=request.request_id,
        reference_id=request.reference_id,
        succeeded=True,
    )
    try:
        return await work(answer)
    except Refused as refused:
        log.warning("ABIS %s %s refused: %s", request.operation.value, request.request_id, refused)
        return answer.model_copy(update={"succeeded": False, "failure_reason": refused.code})


def _reference(request: AbisRequested) -> uuid.UUID:
    assert request.reference_id is not None  # AbisRequested checks it per operation
    return request.reference_id


async def insert(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    reference_id = _reference(request)
    assert request.reference_url is not None
    field = await _fetch(abis, request.reference_url)
    nonce, ciphertext = abis.key.seal(reference_id, field.tobytes())
    seq = await store.put(conn, reference_id, nonce, ciphertext)
    abis.index.add([reference_id], embed(field[None]), [seq])
    return answer


async def identify(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    reference_id = _reference(request)
    await abis.follower.catch_up(conn)  # what the other instances inserted or deleted
    sealed = await store.get(conn, reference_id)
    if sealed is None:
        raise Refused("reference_not_found", f"reference {reference_id} was never inserted")
    field = np.frombuffer(abis.key.open(reference_id, *sealed), dtype=np.int8)
    max_results = request.max_results or rules.DEFAULT_MAX_RESULTS
    neighbours = abis.index.search(
        embed(field.reshape(1, len(DEDUPE_FINGERS), -1)), max_results, reference_id
    )
    found = rules.candidates(neighbours, rules.threshold_for(request.target_fpir), max_results)
    return answer.model_copy(update={"candidates": found})


async def delete(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    reference_id = _reference(request)
    seq = await store.delete(conn, reference_id)
    if seq is None:
        raise Refused("reference_not_found", f"reference {reference_id} is not in the gallery")
    abis.index.remove(reference_id, seq)
    return answer


async def ping(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    return answer


async def pending_jobs(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    # single requests are answered in their consume batch; batch inserts wait for the worker
    return answer.model_copy(update={"job_count": await store.pending_batch_jobs(conn)})


_OPERATIONS = {
    AbisOperation.INSERT: insert,
    AbisOperation.IDENTIFY: identify,
    AbisOperation.DELETE: delete,
    AbisOperation.PING: ping,
    AbisOperation.PENDING_JOBS: pending_jobs,
}


_BAD_DATA = (ValueError, KeyError, TypeError, binascii.Error, TemplateError)


async def _get(abis: Abis, url: str, params: Mapping[str, str] | None = None) -> Any:
    """The JSON document at a reference URL (fetched with the ABIS's own token)."""
    if not rules.reference_allowed(url, abis.reference_prefixes):
        raise Refused("reference_url_not_allowed", "reference URL outside the configured prefixes")
    try:
        response = await abis.http.get(url, params=params)
    except httpx.TransportError as error:
        raise ReferenceUnreachable(f"{url}: {type(error).__name__}: {error}") from None
    except httpx.HTTPError as error:
        raise Refused("reference_unreachable", f"{type(error).__name__}: {error}") from None
    if response.status_code == 404:
        raise Refused("reference_not_found", "the reference URL answered 404")
    if response.status_code in _PASSING_STATUS:
        raise ReferenceUnreachable(f"{url}: answered {response.status_code}")
    if response.status_code != 200:
        raise Refused("reference_unreachable", f"the reference URL answered {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise Refused("bad_reference_data", f"not JSON: {error}") from None


def _field(document: Any) -> NDArray[np.int8]:
    """``{"templates": {finger: base64 TOF1}}`` as the dedupe fingers' fields."""
    return fields({f: base64.b64decode(v, validate=True) for f, v in document["templates"].items()})


async def _fetch(abis: Abis, url: str) -> NDArray[np.int8]:
    """The reference's dedupe-finger fields from its reference URL."""
    document = await _get(abis, url)
    try:
        return _field(document)
    except _BAD_DATA as error:
        raise Refused("bad_reference_data", f"{type(error).__name__}: {error}") from None


# ---------------------------------------------------------------- batch inserts


# How long an instance holds a batch job without finishing a page before another may take it.
BATCH_LEASE_S = 120.0


def _page(
    abis: Abis, document: Any
) -> tuple[list[uuid.UUID], NDArray[np.int8], list[tuple[uuid.UUID, bytes, bytes]]]:
    """One page of a batch document: reference ids, fields and sealed rows (CPU work)."""
    try:
        refs = [uuid.UUID(r["reference_id"]) for r in document["references"]]
        batch = np.stack([_field(r) for r in document["references"]])
    except _BAD_DATA as error:
        raise Refused("bad_reference_data", f"{type(error).__name__}: {error}") from None
    rows = [(ref, *abis.key.seal(ref, f.tobytes())) for ref, f in zip(refs, batch, strict=True)]
    return refs, batch, rows


async def insert_batch(abis: Abis, runtime: Runtime, request: AbisRequested) -> int:
    """Insert every reference of the batch document, a page at a time; returns how many."""
    assert request.reference_url is not None
    count = 0
    after: uuid.UUID | None = None
    while True:
        params = {"limit": str(abis.batch_page)} | ({"after": str(after)} if after else {})
        document = await _get(abis, request.reference_url, params)
        if not document.get("references"):
            return count
        refs, batch, rows = await asyncio.to_thread(_page, abis, document)
        vectors = await asyncio.to_thread(embed, batch)
        async with runtime.pool.acquire() as conn:
            seqs = await store.put_many(conn, rows)
            # on the loop (the index is not shared with a thread), before a catch-up reads
            # the page back
            abis.index.add(refs, vectors, [seqs[r] for r in refs])
            await store.hold_batch_job(conn, request.request_id, BATCH_LEASE_S)
        count += len(refs)
        after = refs[-1]
        log.info("batch %s: %d references inserted", request.request_id, count)


def batch_worker(abis: Abis) -> Callable[[Runtime], Awaitable[None]]:
    """Answers the batch inserts, oldest first, each by one instance. A batch cut short by a
    restart is done again from the start, by any instance once its lease runs out (the gallery
    upserts; a re-insert replaces the index label)."""

    async def insert_batches(runtime: Runtime) -> None:
        while not runtime.stop.is_set():
            abis.batch_wakeup.clear()
            async with runtime.pool.acquire() as conn:
                found = await store.take_batch_job(conn, BATCH_LEASE_S)
            if found is None:
                waits = [
                    asyncio.ensure_future(runtime.stop.wait()),
                    asyncio.ensure_future(abis.batch_wakeup.wait()),
                ]
                try:
                    await asyncio.wait(waits, timeout=1.0, return_when="FIRST_COMPLETED")
                finally:
                    for waiter in waits:
                        waiter.cancel()
                continue
            event = parse_event(json.dumps(found).encode())
            request = event.payload
            assert isinstance(request, AbisRequested)

            async def whole_batch(
                done: AbisResponded, request: AbisRequested = request
            ) -> AbisResponded:
                count = await insert_batch(abis, runtime, request)
                log.info("batch %s done: %d references", request.request_id, count)
                return done

            answer = await _answer(request, whole_batch)
            async with runtime.pool.acquire() as conn, conn.transaction():
                await outbox.enqueue(conn, [Emit(abis.topics.abis_responses, event.caused(answer))])
                await store.finish_batch_job(conn, request.request_id)
            runtime.relay.wake()

    return insert_batches
