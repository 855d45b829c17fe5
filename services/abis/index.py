"""The search index: a fixed-length embedding of the four dedupe fingers, searched by HNSW.

Embedding. A TOF1 template (``schemas.fingerprint``) is a 16 × 16 field of doubled-angle
ridge orientation vectors. The outer ring of blocks is dropped, as ``match_score`` drops it:
the format reserves it. Templates extracted before it was reserved (the sealed gallery holds
them) carry there the image's one-pixel frame that Pillow's Sobel ``Kernel`` copies unfiltered:
on a white platen, perfectly coherent ridges at one fixed angle in every impression of every
person, a shared component that lifted strangers' scores to a median of 37 (docs/abis.md).
The remaining field's lowest 5 × 5 two-dimensional DCT coefficients (per component)
keep the field's shape and drop the block-level detail that a shift of the finger on the
platen scrambles; each finger's 50 coefficients are scaled to unit length and the four
fingers concatenated (÷ 2), so the inner product of two embeddings is the mean over fingers
of the low-pass fields' cosine. 200 dimensions; measured better than today's exhaustive
matcher on the same generated gallery (docs/abis.md).

Index. ``faiss.IndexHNSWSQ``: a navigable small-world graph (M = 32) over the embeddings
quantised to one byte per dimension: 200 bytes per record plus ~260 bytes of graph, and a
search that visits O(log N) records. HNSW cannot remove: a deleted reference's label is
dropped from the label map and filtered out of results.
"""

from __future__ import annotations

import math
import struct
import uuid
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from schemas.fingerprint import TemplateError

BLOCKS = 16
FIELD_BYTES = 2 * BLOCKS * BLOCKS  # one finger's TOF1 vector (signed bytes)
DEDUPE_FINGERS = ("right_thumb", "right_index", "left_thumb", "left_index")
LOW_PASS = 5
DIM = len(DEDUPE_FINGERS) * 2 * LOW_PASS * LOW_PASS
_HEADER = struct.Struct(">4sB")


def _dct_matrix(n: int, k: int) -> NDArray[np.float32]:
    i = np.arange(n)
    m = np.cos(np.pi * (i[None, :] + 0.5) * np.arange(k)[:, None] / n) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m.astype(np.float32)


_DCT = _dct_matrix(BLOCKS, LOW_PASS)
_INNER = np.pad(np.ones((BLOCKS - 2, BLOCKS - 2), dtype=np.float32), 1)  # 0 on the frame


def fields(templates: Mapping[str, bytes]) -> NDArray[np.int8]:
    """The dedupe fingers' TOF1 templates as one (4, 512) int8 array (zeros: finger absent).
    Raises ``TemplateError`` for anything but a 16 × 16 TOF1 template."""
    out = np.zeros((len(DEDUPE_FINGERS), FIELD_BYTES), dtype=np.int8)
    for i, finger in enumerate(DEDUPE_FINGERS):
        template = templates.get(finger)
        if template is None:
            continue
        if len(template) != _HEADER.size + FIELD_BYTES:
            raise TemplateError(f"{finger}: not a 16 × 16 TOF1 template")
        magic, blocks = _HEADER.unpack_from(template)
        if magic != b"TOF1" or blocks != BLOCKS:
            raise TemplateError(f"{finger}: not a 16 × 16 TOF1 template")
        out[i] = np.frombuffer(template, dtype=np.int8, offset=_HEADER.size)
    return out


def embed(batch: NDArray[np.int8]) -> NDArray[np.float32]:
    """(n, 4, 512) int8 fields → (n, 200) float32 embeddings."""
    n = batch.shape[0]
    f = batch.astype(np.float32).reshape(n, len(DEDUPE_FINGERS), BLOCKS, BLOCKS, 2)
    f *= _INNER[:, :, None]
    # the 2-D DCT per finger and component as two matrix products, DCT · field · DCTᵀ: ~15×
    # faster than the one einsum over all indices it replaces (a 700,000-record import spent
    # ~4 CPU minutes there); the result is the same to float32 rounding
    per_component = np.moveaxis(f, 4, 2)  # (n, 4, 2, 16, 16)
    low = np.moveaxis(_DCT @ per_component @ _DCT.T, 2, 4)  # (n, 4, 5, 5, 2), as before
    low = low.reshape(n, len(DEDUPE_FINGERS), -1)
    norm = np.linalg.norm(low, axis=2, keepdims=True)
    low = np.divide(low, norm, out=np.zeros_like(low), where=norm > 0)
    return np.ascontiguousarray((low / 2).reshape(n, DIM))


def _hnsw(ef_search: int) -> faiss.IndexHNSWSQ:
    quantiser: Any = faiss.ScalarQuantizer.QT_8bit  # an enum value; the stubs want a class
    index = faiss.IndexHNSWSQ(DIM, quantiser, 32, faiss.METRIC_INNER_PRODUCT)
    # every component lies in [-0.5, 0.5]: train the quantiser on that range, not on data,
    # so the index is the same whatever is enrolled first
    index.train(np.array([[-0.5] * DIM, [0.5] * DIM], dtype=np.float32))
    index.hnsw.efConstruction = 40
    index.hnsw.efSearch = ef_search
    return index


@dataclass
class GalleryIndex:
    """Embeddings of the enrolled references by label (the order they were added), each with
    the gallery ``seq`` it was read or written at, so the same change reached twice (an
    instance's own write, then the catch-up reading it back) is added once and an older one
    never replaces a newer."""

    ef_search: int = 128
    _index: faiss.IndexHNSWSQ = field(init=False)
    _refs: list[uuid.UUID | None] = field(default_factory=list, init=False)
    _labels: dict[uuid.UUID, int] = field(default_factory=dict, init=False)
    _seqs: array[int] = field(default_factory=lambda: array("q"), init=False)  # by label
    _deleted: dict[uuid.UUID, int] = field(default_factory=dict, init=False)  # seq of the delete

    def __post_init__(self) -> None:
        self._index = _hnsw(self.ef_search)

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, reference_id: object) -> bool:
        return reference_id in self._labels

    def holds(self, reference_id: uuid.UUID, seq: int) -> bool:
        """Whether this change of the reference, or a later one, is already applied."""
        label = self._labels.get(reference_id)
        held = self._deleted.get(reference_id, 0) if label is None else self._seqs[label]
        return held >= seq

    def add(
        self,
        references: Sequence[uuid.UUID],
        embeddings: NDArray[np.float32],
        seqs: Sequence[int] | None = None,
    ) -> None:
        """Add (or replace) references; with ``seqs``, only those not already held."""
        if seqs is None:
            seqs = [0] * len(references)  # unversioned: always replaces
        else:
            keep = [
                i
                for i, (r, s) in enumerate(zip(references, seqs, strict=True))
                if not self.holds(r, s)
            ]
            if len(keep) < len(references):
                references = [references[i] for i in keep]
                embeddings = embeddings[keep]
                seqs = [seqs[i] for i in keep]
        if not references:
            return
        for reference_id in references:
            self._drop(reference_id)  # a re-insert replaces
            self._deleted.pop(reference_id, None)
        first = len(self._refs)
        self._index.add(embeddings)
        self._refs.extend(references)
        self._seqs.extend(seqs)
        self._labels.update((r, first + i) for i, r in enumerate(references))

    def remove(self, reference_id: uuid.UUID, seq: int) -> bool:
        """Drop the reference as deleted by change ``seq`` (unless a later change is held)."""
        if self.holds(reference_id, seq):
            return False
        self._deleted[reference_id] = seq
        return self._drop(reference_id)

    def _drop(self, reference_id: uuid.UUID) -> bool:
        label = self._labels.pop(reference_id, None)
        if label is None:
            return False
        self._refs[label] = None
        return True

    def search(
        self, embedding: NDArray[np.float32], k: int, exclude: uuid.UUID | None = None
    ) -> list[tuple[uuid.UUID, float]]:
        """Up to ``k`` nearest references, best first, as (reference id, inner product)."""
        if not self._labels:
            return []
        dropped = len(self._refs) - len(self._labels)
        want = min(len(self._refs), k + 1 + min(dropped, 64))
        scores, labels = self._index.search(embedding.reshape(1, DIM), want)
        out: list[tuple[uuid.UUID, float]] = []
        for score, label in zip(scores[0], labels[0], strict=True):
            ref = self._refs[label] if label >= 0 else None
            if ref is not None and ref != exclude:
                out.append((ref, float(score)))
        return out[:k]
