"""The ABIS operations (MOSIP's): insert, identify, delete, ping, pending jobs.

Insert fetches the reference's templates from its reference URL (biometric data never
travels on Kafka), seals them into the gallery table and adds their embedding to the index;
identify searches the index with the embedding of a reference already inserted. Each request
is answered with one ``abis.responded`` in the consume batch's transaction. The index changes
as the request is handled: a batch that rolls back and is redelivered re-inserts the same
reference, which replaces its earlier label.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import numpy as np
from numpy.typing import NDArray

from schemas.envelope import Envelope
from schemas.events import AbisOperation, AbisRequested, AbisResponded
from schemas.fingerprint import TemplateError
from schemas.topics import Topics
from services.abis import rules, store
from services.abis.index import DEDUPE_FINGERS, GalleryIndex, embed, fields
from services.abis.sealing import GalleryKey
from services.runtime.db import Conn
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.abis")


class Refused(Exception):
    """The request cannot be served; ``code`` is the response's failure reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Abis:
    topics: Topics
    key: GalleryKey
    index: GalleryIndex
    http: httpx.AsyncClient
    reference_prefixes: tuple[str, ...]


async def handle(abis: Abis, event: Envelope, request: AbisRequested, conn: Conn) -> list[Emit]:
    answer = AbisResponded(
        operation=request.operation,
        request_id=request.request_id,
        reference_id=request.reference_id,
        succeeded=True,
    )
    try:
        answer = await _OPERATIONS[request.operation](abis, request, conn, answer)
    except Refused as refused:
        log.warning("ABIS %s %s refused: %s", request.operation.value, request.request_id, refused)
        answer = answer.model_copy(update={"succeeded": False, "failure_reason": refused.code})
    return [Emit(abis.topics.abis_responses, event.caused(answer))]


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
    await store.put(conn, reference_id, nonce, ciphertext)
    abis.index.add([reference_id], embed(field[None]))
    return answer


async def identify(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    reference_id = _reference(request)
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
    found = await store.delete(conn, reference_id)
    abis.index.remove(reference_id)
    if not found:
        raise Refused("reference_not_found", f"reference {reference_id} is not in the gallery")
    return answer


async def ping(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    return answer


async def pending_jobs(
    abis: Abis, request: AbisRequested, conn: Conn, answer: AbisResponded
) -> AbisResponded:
    # requests are answered in order within their consume batch: none waits behind an answer
    return answer.model_copy(update={"job_count": 0})


_OPERATIONS = {
    AbisOperation.INSERT: insert,
    AbisOperation.IDENTIFY: identify,
    AbisOperation.DELETE: delete,
    AbisOperation.PING: ping,
    AbisOperation.PENDING_JOBS: pending_jobs,
}


async def _fetch(abis: Abis, url: str) -> NDArray[np.int8]:
    """The reference's dedupe-finger fields from its reference URL."""
    if not rules.reference_allowed(url, abis.reference_prefixes):
        raise Refused("reference_url_not_allowed", "reference URL outside the configured prefixes")
    try:
        response = await abis.http.get(url)
    except httpx.HTTPError as error:
        raise Refused("reference_unreachable", f"{type(error).__name__}: {error}") from None
    if response.status_code == 404:
        raise Refused("reference_not_found", "the reference URL answered 404")
    if response.status_code != 200:
        raise Refused("reference_unreachable", f"the reference URL answered {response.status_code}")
    try:
        templates = {
            finger: base64.b64decode(value, validate=True)
            for finger, value in response.json()["templates"].items()
        }
        return fields(templates)
    except (ValueError, KeyError, TypeError, binascii.Error, TemplateError) as error:
        raise Refused("bad_reference_data", f"{type(error).__name__}: {error}") from None


async def rebuild(
    abis: Abis,
    pages: Callable[[], AsyncIterator[list[tuple[uuid.UUID, bytes, bytes]]]],
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Fill the index from the sealed gallery (after a restart); returns how many."""
    count = 0
    async for page in pages():
        refs = [ref for ref, _, _ in page]
        batch = np.stack(
            [np.frombuffer(abis.key.open(ref, n, c), dtype=np.int8) for ref, n, c in page]
        ).reshape(len(page), len(DEDUPE_FINGERS), -1)
        abis.index.add(refs, embed(batch))
        count += len(page)
        progress(count)
    return count
