"""Stand-in fingerprint templates: same finger matches, other fingers and people do not."""

from __future__ import annotations

import itertools

import pytest

from services.biometric.items import Finger
from services.biometric.templates import TemplateError, fingerprint_template, match_score
from tests.biometric.conftest import rendered

THRESHOLD = 80  # a score at which two impressions are the same finger
FINGERS = (Finger.RIGHT_THUMB, Finger.RIGHT_INDEX, Finger.LEFT_THUMB)
PEOPLE = ("ani", "budi", "citra", "dewi", "eko")


def impression(seed: str, finger: Finger, attempt: int) -> bytes:
    return rendered(seed, finger.item, attempt).data


@pytest.fixture(scope="module")
def templates() -> dict[tuple[str, Finger, int], bytes]:
    return {
        (seed, finger, attempt): fingerprint_template(impression(seed, finger, attempt))
        for seed in PEOPLE
        for finger in FINGERS
        for attempt in (1, 2)
    }


def test_template_is_deterministic_and_compact() -> None:
    image = impression("ani", Finger.RIGHT_THUMB, 1)
    assert fingerprint_template(image) == fingerprint_template(image)
    assert len(fingerprint_template(image)) <= 600


def test_same_finger_of_same_person_matches_across_impressions(
    templates: dict[tuple[str, Finger, int], bytes],
) -> None:
    for seed in PEOPLE:
        for finger in FINGERS:
            first, second = templates[(seed, finger, 1)], templates[(seed, finger, 2)]
            assert first != second  # different impressions, not a copied image
            assert match_score(first, second) >= THRESHOLD, (seed, finger)


def test_different_people_and_different_fingers_do_not_match(
    templates: dict[tuple[str, Finger, int], bytes],
) -> None:
    firsts = [(k, t) for k, t in templates.items() if k[2] == 1]
    for (key_a, a), (key_b, b) in itertools.combinations(firsts, 2):
        assert match_score(a, b) < THRESHOLD, (key_a, key_b)


def test_garbage_is_rejected() -> None:
    with pytest.raises(TemplateError):
        fingerprint_template(b"not an image")
    with pytest.raises(TemplateError):
        match_score(b"TOF1", b"TOF1")
