"""Pure rules of the biometric stage: application states, priorities, chip fingers, claim checks.

No I/O; unit-tested without Kafka or a database.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from schemas.application import ApplicationType
from schemas.events import AbisCandidate, AbisOperation, AbisRequested, ClaimCheck, PrintPriority
from services.biometric.items import FACE, SIGNATURE, Finger

CLAIM_STORE = "biometric.records"
TEMPLATE_FORMAT = "TOF1"  # services.biometric.templates (stand-in for ISO/IEC 19794-2)
# The fingers the 1:N search compares: thumbs and index fingers, as chips and most AFIS use.
DEDUPE_FINGERS = (Finger.RIGHT_THUMB, Finger.RIGHT_INDEX, Finger.LEFT_THUMB, Finger.LEFT_INDEX)
_KEY = re.compile(r"^bio://(\d{6})/([0-9a-f-]{36})(?:/.*)?$")


class State(StrEnum):
    """Where an application is in this stage."""

    QUEUED = "queued"
    DEDUPE_PENDING = "dedupe_pending"  # recorded; the ABIS's identify answer is awaited
    DUPLICATE_SUSPECTED = "duplicate_suspected"
    PRINT_READY = "print_ready"
    DUPLICATE_CONFIRMED = "duplicate_confirmed"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    CLEAR = "clear"  # not the same person: print
    CONFIRM = "confirm"  # the same person under another identity: the application ends


def priority(application_type: ApplicationType) -> PrintPriority:
    """Dukcapil circular 471.13/6153: new recordings before replacements when blanks are short."""
    if application_type is ApplicationType.NEW:
        return PrintPriority.FIRST_CARD
    return PrintPriority.REPLACEMENT


def chip_fingers(
    available: Collection[Finger], preferred: Sequence[Finger], count: int = 2
) -> tuple[Finger, ...]:
    """The fingers whose templates go on the chip: the preferred ones that were captured,
    topped up with other captured fingers in ISO position order (fewer if fewer exist)."""
    chosen = [f for f in preferred if f in available][:count]
    for finger in Finger:
        if len(chosen) >= count:
            break
        if finger in available and finger not in chosen:
            chosen.append(finger)
    return tuple(chosen)


def record_id_of(key: str) -> uuid.UUID:
    """The record id in a claim-check key (``bio://350805/<uuid>``)."""
    match = _KEY.fullmatch(key)
    if not match:
        raise ValueError("not a biometric claim-check key")
    return uuid.UUID(match[2])


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class ClaimChecks:
    """The claim checks of one stored record. Digests are of the ciphertext as stored when the
    event was made (a data-key rotation re-encrypts, so later digests differ)."""

    record: ClaimCheck
    photo: ClaimCheck
    signature: ClaimCheck
    fingerprint_templates: ClaimCheck
    chip_fingers: tuple[Finger, ...]


def claim_checks(
    reference: str,
    item_digests: Mapping[str, str],
    template_digests: Mapping[Finger, str],
    preferred_fingers: Sequence[Finger],
) -> ClaimChecks:
    """Claim checks from the per-blob ciphertext digests (hex sha256) of one record.

    - record: sha256 over the sorted ``item:digest`` lines of every stored item;
    - photo / signature: the digest of that item's ciphertext;
    - fingerprint templates: sha256 over the chosen templates' ciphertext digests, in order.
    """
    fingers = chip_fingers(template_digests.keys(), preferred_fingers)
    lines = "".join(f"{item}:{d}\n" for item, d in sorted(item_digests.items()))

    # Every key is the record's reference: the event field names the part, the station
    # resolves them all with one card-data call (and takes the record id as the last segment).
    def check(sha256: str) -> ClaimCheck:
        return ClaimCheck(store=CLAIM_STORE, key=reference, sha256=sha256)

    return ClaimChecks(
        record=check(_sha(lines.encode())),
        photo=check(item_digests[FACE]),
        signature=check(item_digests[SIGNATURE]),
        fingerprint_templates=check(_sha(*(template_digests[f].encode() for f in fingers))),
        chip_fingers=fingers,
    )


def dedupe_requests(
    record_id: uuid.UUID, reference_url: str, target_fpir: float, max_results: int
) -> tuple[AbisRequested, AbisRequested]:
    """Insert the record into the ABIS's gallery, then identify with it. The ids name the
    record, so a request sent again is the same request."""
    insert = AbisRequested(
        operation=AbisOperation.INSERT,
        request_id=f"insert-{record_id}",
        reference_id=record_id,
        reference_url=reference_url,
    )
    identify = AbisRequested(
        operation=AbisOperation.IDENTIFY,
        request_id=f"identify-{record_id}",
        reference_id=record_id,
        target_fpir=target_fpir,
        max_results=max_results,
    )
    return insert, identify


def case_candidates(
    candidates: Sequence[AbisCandidate], kecamatan: Mapping[uuid.UUID, str]
) -> list[dict[str, object]]:
    """An adjudication case's candidates, best first, with where each was recorded (``None``
    for a reference this deployment does not hold, e.g. from the national ABIS)."""
    return [
        {
            "record_id": str(c.reference_id),
            "kecamatan": kecamatan.get(c.reference_id),
            "score": c.score,
        }
        for c in sorted(candidates, key=lambda c: -c.score)
    ]
