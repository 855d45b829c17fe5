"""1:N deduplication: is this person already enrolled under another NIK?

The national check runs centrally (Dukcapil's ABIS); an adapter for it implements
`DedupeCheck`. `LocalDedupe` is the local default over this deployment's stored templates.

Scope: every kecamatan of the deployment, not just the applicant's own. A second identity is
most likely attempted at another office (a move, or on purpose), which a same-kecamatan search
would never see; the stage already holds every kecamatan's data key, so searching them all
exposes nothing new. To stay cheap it compares only thumbs and index fingers (the fingers
chips and most AFIS searches use) and reads templates, never images.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from services.biometric.crypto import MasterKeyring
from services.biometric.items import Finger
from services.biometric.store import StoredTemplate, templates_for_matching
from services.biometric.templates import match_score

DEDUPE_FINGERS = (Finger.RIGHT_THUMB, Finger.RIGHT_INDEX, Finger.LEFT_THUMB, Finger.LEFT_INDEX)


@dataclass(frozen=True)
class Candidate:
    record_id: uuid.UUID
    kecamatan: str
    score: int  # mean over the fingers both sides have
    finger_scores: Mapping[Finger, int]


@dataclass(frozen=True)
class NoDuplicate:
    records_compared: int


@dataclass(frozen=True)
class DuplicateSuspected:
    candidates: tuple[Candidate, ...]  # best first


DedupeResult = NoDuplicate | DuplicateSuspected


class DedupeCheck(Protocol):
    async def check(
        self, probe: Mapping[Finger, bytes], *, exclude: uuid.UUID | None = None
    ) -> DedupeResult: ...


def score_candidate(
    probe: Mapping[Finger, bytes], stored: Mapping[Finger, bytes]
) -> tuple[int, dict[Finger, int]]:
    """Mean match score over the fingers both have (0 when they share none)."""
    scores = {f: match_score(probe[f], stored[f]) for f in probe.keys() & stored.keys()}
    if not scores:
        return 0, scores
    return round(sum(scores.values()) / len(scores)), scores


@dataclass
class LocalDedupe:
    pool: asyncpg.Pool
    keyring: MasterKeyring
    threshold: int = 80
    fingers: Sequence[Finger] = DEDUPE_FINGERS
    page_records: int = 500

    async def check(
        self, probe: Mapping[Finger, bytes], *, exclude: uuid.UUID | None = None
    ) -> DedupeResult:
        probe = {f: t for f, t in probe.items() if f in self.fingers}
        if not probe:  # all compared fingers are exceptions: nothing to search with
            return NoDuplicate(0)
        hits: list[Candidate] = []
        compared = 0
        after: uuid.UUID | None = None
        limit = self.page_records * len(probe)
        while True:
            async with self.pool.acquire() as conn:
                rows = await templates_for_matching(
                    conn, self.keyring, list(probe), after=after, limit=limit
                )
            if not rows:
                break
            records = _by_record(rows)
            if len(rows) == limit and len(records) > 1:
                records.popitem()  # the page may have cut the last record short: read it again
            # matching is CPU work in Python: off the event loop
            page_hits, page_compared = await asyncio.to_thread(
                _score_page, probe, records, exclude, self.threshold
            )
            hits += page_hits
            compared += page_compared
            after = next(reversed(records))
            if len(rows) < limit:
                break
        if hits:
            return DuplicateSuspected(tuple(sorted(hits, key=lambda c: -c.score)))
        return NoDuplicate(compared)


def _score_page(
    probe: Mapping[Finger, bytes],
    records: Mapping[uuid.UUID, tuple[str, dict[Finger, bytes]]],
    exclude: uuid.UUID | None,
    threshold: int,
) -> tuple[list[Candidate], int]:
    hits: list[Candidate] = []
    compared = 0
    for record_id, (kecamatan, stored) in records.items():
        if record_id == exclude:
            continue
        compared += 1
        score, per_finger = score_candidate(probe, stored)
        if score >= threshold:
            hits.append(Candidate(record_id, kecamatan, score, per_finger))
    return hits, compared


def _by_record(
    rows: list[StoredTemplate],
) -> dict[uuid.UUID, tuple[str, dict[Finger, bytes]]]:
    out: dict[uuid.UUID, tuple[str, dict[Finger, bytes]]] = {}
    for row in rows:
        out.setdefault(row.record_id, (row.kecamatan, {}))[1][row.finger] = row.template
    return out
