"""The ABIS's search on what the real path produces: prints rendered by the capture simulator,
templates extracted as the biometric stage extracts them (``kit.templates_of``), embedded and
searched at the default target FPIR. A full demo day has 60 distinct applicants: none may be
flagged as another's duplicate, and a second impression of the same person must be found."""

from __future__ import annotations

import uuid

import numpy as np

from services.abis import rules
from services.abis.index import GalleryIndex, embed, fields
from tests.abis.kit import templates_of

PEOPLE = 60
RETURNING = 6  # people recorded again (a second impression of each finger)


def _embedding(person: str, attempt: int) -> np.typing.NDArray[np.float32]:
    return embed(fields(templates_of(person, attempt))[None])


def test_distinct_rendered_people_are_not_candidates_and_a_second_impression_is() -> None:
    people = [f"applicant-{i}" for i in range(PEOPLE)]
    refs = [uuid.uuid4() for _ in people]
    index = GalleryIndex()
    index.add(refs, np.concatenate([_embedding(p, 1) for p in people]))
    threshold = rules.threshold_for(rules.DEFAULT_FPIR)

    def found(embedding: np.typing.NDArray[np.float32], exclude: uuid.UUID) -> list[uuid.UUID]:
        near = index.search(embedding[0], rules.DEFAULT_MAX_RESULTS, exclude)
        return [c.reference_id for c in rules.candidates(near, threshold, 10)]

    flagged = [p for p, r in zip(people, refs, strict=True) if found(_embedding(p, 1), r)]
    assert flagged == []
    for person, ref in zip(people[:RETURNING], refs[:RETURNING], strict=True):
        assert found(_embedding(person, 2), uuid.uuid4()) == [ref]
