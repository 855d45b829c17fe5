"""The 1:N bench (``python -m tuntas.bench.abis``): accuracy of the ABIS's search beside
today's exhaustive matcher on one generated gallery, and search cost over gallery sizes.

- accuracy: ``--people`` enrolled people, a second impression of ``--mated`` of them and
  ``--people`` strangers as probes (:mod:`tuntas.bench.gallery`); rank-1, and FNIR at
  FPIR 0.1 % and 0.01 % (the threshold is set from the strangers' best scores), for
  (a) today's matcher (``match_score`` mean over the four fingers, every record compared),
  (b) the ABIS embedding compared with every record, (c) the ABIS's HNSW index;
- scale: for each of ``--sizes``, build time, search p50/p99 (one query at a time, as the
  ABIS answers them) and the process's resident memory growth.

- IVF trial (``--ivf-sizes S --ivf-nprobe 16,64,256``): the alternative measured against the
  HNSW index, an inverted file (``faiss.IndexIVFScalarQuantizer``, 8-bit codes, an HNSW
  coarse quantiser) with its lists grown with the gallery (N / 128 lists, trained on the
  gallery), so that a search scans ``nprobe`` × 128 records whatever N: search p50/p99 and
  how many of ``--queries`` mated probes find their mate in the top 10, beside exact search
  and the HNSW index on the same gallery.

- real path (``--real-path N``): N simulated people × 2 impressions of the dedupe fingers
  rendered by the capture simulator, through the template extraction the biometric stage
  runs (``schemas.fingerprint``; its quality gate only accepts or refuses, and passes every
  good render), then the ABIS embedding: the genuine and impostor score distributions and the
  impostor pairs at or above each calibrated threshold (``services.abis.rules``).

It measures ``services.abis.index`` in this process: a million inserts through Kafka and the
reference URL would measure the registration side, not the search.

``--write-earlier PATH --records N`` writes instead a district's earlier-records export of N
people for ``python -m services.biometric.earlier`` (the import's measurement, docs/abis.md):
generated templates for the four dedupe fingers (the other six fingers repeat them, so the
file and the encryption cost what ten templates cost), one rendered photo and signature.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import sys
import time
import uuid
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from schemas.fingerprint import fingerprint_template
from services.abis.index import DEDUPE_FINGERS, GalleryIndex, embed, fields
from services.abis.rules import CALIBRATION
from simulators.capture.render import render
from tuntas.bench import gallery
from tuntas.bench.fingerprints import spread

FPIRS = (1e-3, 1e-4)


def _rates(
    mate: NDArray[Any], best_other: NDArray[Any], top_is_mate: NDArray[Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"rank1": round(float(top_is_mate.mean()), 4)}
    ordered = np.sort(best_other)[::-1]
    for fpir in FPIRS:
        threshold = ordered[int(fpir * len(ordered))]  # scores above it: at most fpir of them
        out[f"fnir_at_fpir_{fpir:g}"] = round(float((mate <= threshold).mean()), 4)
        out[f"threshold_at_fpir_{fpir:g}"] = round(float(threshold), 4)
    return out


def accuracy(people: int, mated: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    params = gallery.people(rng, 2 * people)
    enrolled = gallery.impressions(params[:people], rng)
    again = gallery.impressions(params[:mated], rng)
    strangers = gallery.impressions(params[people:], rng)
    rows = np.arange(mated)

    def chunked(probes: NDArray[np.int8], fn: Any) -> NDArray[Any]:
        return np.concatenate([fn(probes[i : i + 2000]) for i in range(0, len(probes), 2000)])

    today_m = chunked(again, lambda p: gallery.exhaustive_scores(p, enrolled))
    today_s = chunked(strangers, lambda p: gallery.exhaustive_scores(p, enrolled))
    e_enrolled, e_again, e_strangers = embed(enrolled), embed(again), embed(strangers)
    emb_m, emb_s = e_again @ e_enrolled.T, e_strangers @ e_enrolled.T
    index = GalleryIndex()
    refs = [uuid.UUID(int=i) for i in range(people)]
    index.add(refs, e_enrolled)
    found_m = [dict(index.search(e_again[i], 10)) for i in range(mated)]
    found_s = [index.search(e_strangers[i], 1) for i in range(people)]
    mate_idx = np.array([found_m[i].get(refs[i], -1.0) for i in range(mated)])
    top_idx = np.array(
        [bool(f) and max(f, key=f.__getitem__) == refs[i] for i, f in enumerate(found_m)]
    )
    best_idx = np.array([f[0][1] if f else -1.0 for f in found_s])
    return {
        "people": people,
        "mated_probes": mated,
        "non_mated_probes": people,
        "today_exhaustive": _rates(today_m[rows, rows], today_s.max(1), today_m.argmax(1) == rows),
        "abis_embedding_exhaustive": _rates(
            emb_m[rows, rows], emb_s.max(1), emb_m.argmax(1) == rows
        ),
        "abis_index": _rates(mate_idx, best_idx, top_idx),
    }


def _rendered(person: int) -> NDArray[np.int8]:
    """Two impressions of one simulated person's dedupe fingers as the stage extracts them:
    (2, 4, 512)."""
    return np.stack(
        [
            fields(
                {
                    f: fingerprint_template(render(f"real-path-{person}", f"finger.{f}", a).data)
                    for f in DEDUPE_FINGERS
                }
            )
            for a in (1, 2)
        ]
    )


def real_path(people: int) -> dict[str, Any]:
    with ProcessPoolExecutor(2) as pool:
        rendered = np.stack(list(pool.map(_rendered, range(people), chunksize=8)))
    scores = 100 * (embed(rendered[:, 1]) @ embed(rendered[:, 0]).T)
    genuine, impostor = np.diag(scores), scores[~np.eye(people, dtype=bool)]
    return {
        "people": people,
        "genuine": spread(genuine),
        "impostor": spread(impostor),
        "impostor_pairs": int(impostor.size),
        "impostor_pairs_at_threshold": {
            f"{t} (FPIR {fpir:g})": int((impostor >= t).sum()) for fpir, t in CALIBRATION
        },
    }


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


_CHUNK = 20_000
_CACHE = Path.home() / ".cache" / "tuntas" / "abis-bench"


def _chunk_of_gallery(job: tuple[int, int, int]) -> NDArray[np.int8]:
    """People ``start`` … ``start + n`` of the scale gallery, one impression each, from a seed
    of their own (any chunk can be made alone, in any process); cached as int8 fields (2 KB a
    person), so a rerun or a larger size only generates what is missing."""
    seed, start, n = job
    path = _CACHE / f"seed{seed}-{start}-{n}.npy"
    if path.exists():
        cached: NDArray[np.int8] = np.load(path)
        return cached
    rng = np.random.default_rng([seed, start])
    made = gallery.impressions(gallery.people(rng, n), rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.npy")
    np.save(partial, made)
    partial.replace(path)
    return made


def scale(size: int, queries: int, seed: int) -> dict[str, Any]:
    """Generation runs in two worker processes a few chunks ahead of the index; the probes are
    second impressions of the first chunk's first ``queries`` people."""
    before = _rss_mb()
    index = GalleryIndex()
    build = 0.0
    jobs = [(seed, start, min(_CHUNK, size - start)) for start in range(0, size, _CHUNK)]
    mates = gallery.people(np.random.default_rng([seed, 0]), jobs[0][2])[:queries]
    probes = embed(gallery.impressions(mates, np.random.default_rng([seed, 2**32])))
    with ProcessPoolExecutor(2) as pool:
        ahead = deque(pool.submit(_chunk_of_gallery, job) for job in jobs[:4])
        for k, (_, start, n) in enumerate(jobs):
            vectors = embed(ahead.popleft().result())
            if k + 4 < len(jobs):
                ahead.append(pool.submit(_chunk_of_gallery, jobs[k + 4]))
            began = time.perf_counter()
            index.add([uuid.UUID(int=start + i) for i in range(n)], vectors)
            build += time.perf_counter() - began
    latencies = []
    for probe in probes:
        began = time.perf_counter()
        index.search(probe, 10)
        latencies.append(time.perf_counter() - began)
    ms = np.array(latencies) * 1000
    return {
        "gallery": len(index),
        "build_s": round(build, 1),
        "search_p50_ms": round(float(np.percentile(ms, 50)), 3),
        "search_p99_ms": round(float(np.percentile(ms, 99)), 3),
        "memory_mb": round(_rss_mb() - before, 1),
    }


_IVF_LIST = 128  # records per list: the lists grow with the gallery


def _timed_search(index: Any, probes: NDArray[np.float32]) -> tuple[dict[str, float], Any]:
    """One probe at a time: p50/p99 in ms, and each probe's top-10 labels."""
    latencies, labels = [], []
    for probe in probes:
        began = time.perf_counter()
        _, found = index.search(probe.reshape(1, -1), 10)
        latencies.append(time.perf_counter() - began)
        labels.append(found[0])
    ms = np.array(latencies) * 1000
    figures = {f"p{q}_ms": round(float(np.percentile(ms, q)), 3) for q in (50, 99)}
    return figures, np.array(labels)


def ivf_trial(size: int, nprobes: list[int], queries: int, seed: int) -> dict[str, Any]:
    """The IVF alternative beside exact search and the HNSW index (module docstring)."""
    jobs = [(seed, start, min(_CHUNK, size - start)) for start in range(0, size, _CHUNK)]
    with ProcessPoolExecutor(2) as pool:
        vectors = np.concatenate([embed(chunk) for chunk in pool.map(_chunk_of_gallery, jobs)])
    mates = gallery.people(np.random.default_rng([seed, 0]), jobs[0][2])[:queries]
    probes = embed(gallery.impressions(mates, np.random.default_rng([seed, 2**32])))
    own = np.arange(len(probes))[:, None]

    def mates_found(labels: Any) -> int:
        return int((labels == own).any(axis=1).sum())

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    out: dict[str, Any] = {"gallery": size, "queries": len(probes)}
    out["exact_mates_in_top10"] = mates_found(exact.search(probes, 10)[1])
    hnsw = GalleryIndex()
    began = time.perf_counter()
    hnsw.add([uuid.UUID(int=i) for i in range(size)], vectors)
    out["hnsw_build_s"] = round(time.perf_counter() - began, 1)
    figures, labels = _timed_search(hnsw._index, probes)
    out["hnsw"] = figures | {"mates_in_top10": mates_found(labels)}
    lists = max(4, size // _IVF_LIST)
    coarse = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    quantiser: Any = faiss.ScalarQuantizer.QT_8bit
    ivf = faiss.IndexIVFScalarQuantizer(
        coarse, vectors.shape[1], lists, quantiser, faiss.METRIC_INNER_PRODUCT
    )
    sample = np.random.default_rng(seed).choice(size, min(size, 40 * lists), replace=False)
    began = time.perf_counter()
    ivf.train(vectors[sample])
    ivf.add(vectors)
    out["ivf_lists"], out["ivf_build_s"] = lists, round(time.perf_counter() - began, 1)
    for nprobe in nprobes:
        ivf.nprobe = nprobe
        figures, labels = _timed_search(ivf, probes)
        out[f"ivf_nprobe_{nprobe}"] = figures | {"mates_in_top10": mates_found(labels)}
    return out


_DEDUPE = ("right_thumb", "right_index", "left_thumb", "left_index")
_OTHERS = ("right_middle", "right_ring", "right_little", "left_middle", "left_ring", "left_little")


def _nik(i: int) -> str:
    """A valid Tempeh NIK per index: a birth date from the index, then a serial."""
    day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 50 + (i // 336) % 50
    return f"350805{day:02d}{month:02d}{year:02d}{1 + i // 16_800:04d}"


def write_earlier(path: Path, records: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    images = {}
    for item in ("face", "signature"):
        found = render("earlier-bench", item, 1)
        images[item] = {
            "media_type": found.media_type,
            "quality": found.quality,
            "data": base64.b64encode(found.data).decode(),
        }
    with path.open("w") as out:
        for start in range(0, records, 10_000):
            n = min(10_000, records - start)
            fields = gallery.impressions(gallery.people(rng, n), rng)
            for i in range(n):
                dedupe = [base64.b64encode(gallery.to_bytes(f)).decode() for f in fields[i]]
                templates = dict(zip(_DEDUPE, dedupe, strict=True))
                templates |= {f: dedupe[k % 4] for k, f in enumerate(_OTHERS)}
                line = {"nik": _nik(start + i), "photo": images["face"]}
                line |= {"signature": images["signature"], "templates": templates}
                out.write(json.dumps(line) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuntas.bench.abis", description=__doc__)
    parser.add_argument("--people", type=int, default=10_000, help="accuracy gallery (0 skips)")
    parser.add_argument("--mated", type=int, default=5_000)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--real-path", type=int, default=0, help="rendered people (0 skips)")
    parser.add_argument("--ivf-sizes", default="", help="galleries for the IVF trial")
    parser.add_argument("--ivf-nprobe", default="16,64,256", help="lists searched, per trial")
    parser.add_argument("--write-earlier", type=Path, help="write an earlier-records export")
    parser.add_argument("--records", type=int, default=50_000, help="people in that export")
    args = parser.parse_args(argv)
    if args.write_earlier:
        write_earlier(args.write_earlier, args.records, args.seed)
        return 0
    result: dict[str, Any] = {}
    if args.real_path:
        result["real_path"] = real_path(args.real_path)
        print(json.dumps(result["real_path"], indent=1), flush=True)
    if args.people:
        result["accuracy"] = accuracy(args.people, args.mated, args.seed)
        print(json.dumps(result["accuracy"], indent=1), flush=True)
    result["scale"] = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        result["scale"].append(scale(size, args.queries, args.seed))
        print(json.dumps(result["scale"][-1]), flush=True)
    nprobes = [int(n) for n in args.ivf_nprobe.split(",") if n.strip()]
    result["ivf_trial"] = []
    for size in (int(s) for s in args.ivf_sizes.split(",") if s.strip()):
        result["ivf_trial"].append(ivf_trial(size, nprobes, args.queries, args.seed))
        print(json.dumps(result["ivf_trial"][-1]), flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
