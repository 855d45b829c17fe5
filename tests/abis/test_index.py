"""The index follows changes by their gallery ``seq``: a change reached twice is applied once,
an older one never undoes a newer one."""

import uuid

import numpy as np
from numpy.typing import NDArray

from services.abis.index import DIM, GalleryIndex, embed


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


def test_the_embedding_is_the_low_pass_dct_of_each_fingers_inner_field() -> None:
    """``embed`` against the definition written out: per finger and component, the lowest
    5 × 5 coefficients of the orthonormal 2-D DCT-II of the field with its outer ring zeroed,
    each finger unit length, the four concatenated ÷ 2."""
    batch = np.random.default_rng(4).integers(-127, 128, (3, 4, 512)).astype(np.int8)
    batch[2, 1] = 0  # an absent finger stays zero
    i = np.arange(16)
    basis = np.cos(np.pi * (i[None, :] + 0.5) * np.arange(5)[:, None] / 16) * np.sqrt(2 / 16)
    basis[0] /= np.sqrt(2)
    expected = np.zeros((3, DIM))
    for n in range(3):
        for f in range(4):
            field = batch[n, f].astype(np.float64).reshape(16, 16, 2)
            field[[0, -1], :] = field[:, [0, -1]] = 0
            low = np.stack([basis @ field[:, :, c] @ basis.T for c in (0, 1)], axis=-1).ravel()
            norm = np.linalg.norm(low)
            expected[n, f * 50 : (f + 1) * 50] = low / norm / 2 if norm else 0
    np.testing.assert_allclose(embed(batch), expected, atol=1e-6)
