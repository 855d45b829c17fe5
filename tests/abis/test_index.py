"""The index follows changes by their gallery ``seq``: a change reached twice is applied once,
an older one never undoes a newer one."""

import uuid

import numpy as np
from numpy.typing import NDArray

from services.abis.index import DIM, GalleryIndex


def _vector(seed: int) -> NDArray[np.float32]:
    v = np.random.default_rng(seed).normal(size=(1, DIM)).astype(np.float32)
    return v / np.linalg.norm(v)  # unit length, as an embedding


def test_changes_apply_in_seq_order_whatever_order_they_arrive_in() -> None:
    index, ref = GalleryIndex(), uuid.uuid4()
    index.add([ref], _vector(1), [5])
    assert index.holds(ref, 5) and not index.holds(ref, 6)
    index.add([ref], _vector(2), [4])  # an older version read late: ignored
    assert index.search(_vector(1)[0], 1)[0][0] == ref
    assert index.search(_vector(1)[0], 1)[0][1] > 0.99
    assert not index.remove(ref, 3)  # an older delete: ignored
    assert ref in index
    assert index.remove(ref, 7)
    assert ref not in index and index.holds(ref, 7)
    index.add([ref], _vector(1), [6])  # the insert the delete replaced, read after it
    assert ref not in index and index.search(_vector(1)[0], 1) == []
    index.add([ref], _vector(3), [8])  # inserted again
    assert ref in index and len(index) == 1
