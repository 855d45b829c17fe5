"""The stage's pure rules: print priority, chip fingers, claim checks, simulation seeds."""

from __future__ import annotations

import uuid

import pytest

from schemas.application import ApplicationType
from schemas.events import PrintPriority
from services.biometric.items import FACE, SIGNATURE, Finger
from services.biometric.rules import (
    CLAIM_STORE,
    chip_fingers,
    claim_checks,
    priority,
    record_id_of,
)

PREFERRED = (Finger.RIGHT_INDEX, Finger.LEFT_INDEX)


def test_first_cards_before_replacements() -> None:
    assert priority(ApplicationType.NEW) is PrintPriority.FIRST_CARD
    assert priority(ApplicationType.LOST) is PrintPriority.REPLACEMENT
    assert priority(ApplicationType.DAMAGED) is PrintPriority.REPLACEMENT


def test_chip_fingers_prefer_the_index_fingers_and_fall_back_in_iso_order() -> None:
    assert chip_fingers(set(Finger), PREFERRED) == PREFERRED
    without_right_index = set(Finger) - {Finger.RIGHT_INDEX}
    assert chip_fingers(without_right_index, PREFERRED) == (Finger.LEFT_INDEX, Finger.RIGHT_THUMB)
    assert chip_fingers({Finger.LEFT_LITTLE}, PREFERRED) == (Finger.LEFT_LITTLE,)
    assert chip_fingers(set(), PREFERRED) == ()


def test_claim_checks_reference_the_record_and_hash_ciphertext_digests() -> None:
    record_id = uuid.uuid4()
    reference = f"bio://350805/{record_id}"
    items = {FACE: "a" * 64, SIGNATURE: "b" * 64, "finger.right_index": "c" * 64}
    templates = {Finger.RIGHT_INDEX: "d" * 64, Finger.LEFT_INDEX: "e" * 64}
    checks = claim_checks(reference, items, templates, PREFERRED)
    assert checks.record.key == reference and checks.record.store == CLAIM_STORE
    assert checks.photo.sha256 == "a" * 64 and checks.signature.sha256 == "b" * 64
    assert checks.fingerprint_templates.key == reference
    assert checks.chip_fingers == PREFERRED
    for check in (checks.record, checks.photo, checks.signature, checks.fingerprint_templates):
        assert record_id_of(check.key) == record_id
    swapped = claim_checks(reference, items, templates, PREFERRED[::-1])
    assert swapped.fingerprint_templates.sha256 != checks.fingerprint_templates.sha256
    # the card station takes the record id as the key's last segment
    assert checks.photo.key.rsplit("/", 1)[-1] == str(record_id)
    with pytest.raises(ValueError):
        record_id_of("bio://350805/not-a-uuid")
