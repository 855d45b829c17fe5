"""``tuntas bench``: end-to-end throughput and latency beside this machine's Kafka ceiling.

In one run, on the same broker and database server (see ``docs/bench.md``):
1. the ceiling: a bare five-hop aiokafka relay (:mod:`tuntas.bench.ceiling`);
2. the pipeline: N applications through all five stages (:mod:`tuntas.bench.pipeline`);
3. latency at a steady submission rate;
4. cost growth: more kecamatan, more applications;
5. with ``--scale-out``: the light stages with 1 and 2 processes, on 1 and 3 brokers
   (:mod:`tuntas.bench.scale_out`);
6. the 1:N search of the ABIS (:mod:`tuntas.bench.abis`, its own process): accuracy beside
   today's matcher, and search p50/p99, build time and memory per gallery size;
every pipeline run ends with the effectively-once check (:mod:`tuntas.bench.checks`).
Writes ``bench.json`` (the 1:N figures under ``abis``) and ``bench.svg`` to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from schemas.regions import lumajang
from schemas.values import RegionLevel

TEMPEH = "350805"
DEFAULT_EVENT_BYTES = 540  # the pipeline's mean event size (measured), when no run gave one


def kecamatan_codes(count: int) -> tuple[str, ...]:
    """``count`` kecamatan of Kabupaten Lumajang, Tempeh first."""
    codes = [r.code for r in lumajang().children("3508", RegionLevel.KABUPATEN)]
    if not 1 <= count <= len(codes):
        raise ValueError(f"kecamatan count must be 1..{len(codes)}")
    ordered = [TEMPEH] + [c for c in codes if c != TEMPEH]
    return tuple(ordered[:count])


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "bench",
        help="end-to-end throughput and latency against this machine's Kafka ceiling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-n",
        "--applications",
        type=int,
        default=20_000,
        help="main run (default 20000); 0 skips it",
    )
    p.add_argument(
        "--ceiling-messages",
        type=int,
        default=None,
        help="messages through the bare relay (default: as many as applications, >= 1000);"
        " 0 skips it",
    )
    p.add_argument(
        "--rate",
        type=lambda text: [float(x) for x in text.split(",") if x.strip()],
        default=[200.0],
        help="steady submission rate(s) in apps/s, comma-separated: one run each (default 200)",
    )
    p.add_argument(
        "--rate-applications",
        type=int,
        default=2_000,
        help="applications in each steady-rate run (default 2000: 10 s at 200/s); 0 skips them",
    )
    p.add_argument(
        "--kecamatan-counts",
        type=_ints,
        default=[1, 5, 21],
        help="cost growth over kecamatan (default 1,5,21)",
    )
    p.add_argument(
        "--scales",
        type=_ints,
        default=[1, 2, 4],
        help="cost growth over volume: multiples of --sweep-applications (default 1,2,4)",
    )
    p.add_argument(
        "--sweep-applications",
        type=int,
        default=200,
        help="base N of the cost-growth runs (default 200, see docs/bench.md); 0 skips them",
    )
    p.add_argument(
        "--capture-concurrency",
        type=int,
        default=None,
        help="TUNTAS_BIOMETRIC_AUTO_CAPTURE_CONCURRENCY for the runs (default: the stage's own)",
    )
    p.add_argument(
        "--abis-people",
        type=int,
        default=2_000,
        help="1:N accuracy gallery: enrolled people, as many strangers (default 2000; 0 skips)",
    )
    p.add_argument(
        "--abis-sizes",
        default="10000",
        help="1:N search cost at these gallery sizes, comma-separated (default 10000; the"
        " issue's figures: 10000,100000,1000000, ~40 min on 2 cores); empty skips",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="bench.json and bench.svg go here (default: $TUNTAS_HOME/bench-results)",
    )
    p.add_argument(
        "--profile", action="store_true", help="py-spy every service during the main run"
    )
    p.add_argument(
        "--scale-out",
        type=int,
        default=0,
        metavar="N",
        help="N applications per scale-out point: intake, validation and notification as 1 and"
        " 2 processes, on 1 broker and on a 3-node cluster (default 0: skipped; docs/bench.md)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small smoke of everything (40 apps, sweep of 20 at 1,2 kecamatan and 1x,2x)",
    )
    p.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    if args.quick:
        args.applications, args.rate, args.rate_applications = 40, [20.0], 20
        args.sweep_applications, args.kecamatan_counts, args.scales = 20, [1, 2], [1, 2]
        args.abis_people, args.abis_sizes = 1_000, "5000"
    if args.capture_concurrency is not None:
        os.environ["TUNTAS_BIOMETRIC_AUTO_CAPTURE_CONCURRENCY"] = str(args.capture_concurrency)
    return asyncio.run(bench(args))


def _say(text: str) -> None:
    print(text, flush=True)


async def _abis(people: int, sizes: str) -> dict[str, Any]:
    """The 1:N bench in a process of its own (faiss's threads and memory stay out of this
    one); its last line is the result."""
    command = [sys.executable, "-m", "tuntas.bench.abis", "--people", str(people)]
    command += ["--mated", str(people // 2), "--sizes", sizes, "--queries", "500"]
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"tuntas.bench.abis exited {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["command"] = " ".join(["python", *command[1:]])
    return result


def abis_table(result: dict[str, Any]) -> str:
    """The 1:N figures as text lines beside the pipeline's table."""
    lines = ["1:N search (ABIS, docs/abis.md):"]
    if "accuracy" in result:
        acc = result["accuracy"]
        lines.append(f"  accuracy: {acc['people']} people, {acc['mated_probes']} mated probes")
        for name in ("today_exhaustive", "abis_embedding_exhaustive", "abis_index"):
            r = acc[name]
            lines.append(
                f"    {name:<26} rank-1 {r['rank1']:.1%}  FNIR@FPIR0.1% "
                f"{r['fnir_at_fpir_0.001']:.1%}  FNIR@FPIR0.01% {r['fnir_at_fpir_0.0001']:.1%}"
            )
    for row in result.get("scale", []):
        lines.append(
            f"  gallery {row['gallery']:>9,}: build {row['build_s']} s, search p50"
            f" {row['search_p50_ms']} ms, p99 {row['search_p99_ms']} ms,"
            f" memory +{row['memory_mb']} MB"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> int:
    from tuntas.bench import ceiling, pipeline, report, scale_out
    from tuntas.bench.checks import EffectivelyOnceError
    from tuntas.stack import local

    config = local.StackConfig.from_env()
    endpoints = await asyncio.to_thread(local.up, config)
    out: Path = args.out or config.home / "bench-results"
    started = time.time()
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kafka": endpoints.kafka_bootstrap,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "capture_concurrency": os.environ.get("TUNTAS_BIOMETRIC_AUTO_CAPTURE_CONCURRENCY"),
        "command": " ".join(["tuntas", *sys.argv[1:]]),
    }
    main_run: pipeline.RunResult | None = None
    steady: list[pipeline.RunResult] = []
    sweep: list[pipeline.RunResult] = []
    ceiling_result: ceiling.CeilingResult | None = None
    abis: dict[str, Any] = {}
    scale: list[dict[str, Any]] = []

    def save() -> None:
        doc = report.document(ceiling_result, main_run, steady, sweep, machine)
        doc["machine"]["seconds"] = round(time.time() - started, 1)
        if abis:
            doc["abis"] = abis
        if scale:
            doc["scale_out"] = scale
        report.write(out, doc)

    try:
        if args.applications > 0:
            _say(f"== pipeline: {args.applications} applications, 1 kecamatan")
            main_run = await pipeline.run(
                pipeline.RunSpec(
                    args.applications,
                    kecamatan_codes(1),
                    profile_dir=out / "profile" if args.profile else None,
                ),
                config,
                log=_say,
            )
            save()
        size = max(64, round(main_run.mean_message_bytes)) if main_run else DEFAULT_EVENT_BYTES
        count = (
            args.ceiling_messages
            if args.ceiling_messages is not None
            else max(args.applications, 1000)
        )
        if count > 0:
            _say(f"== ceiling: {count} messages of {size} B through a bare five-hop relay")
            ceiling_result = await ceiling.run(endpoints.kafka_bootstrap, count, size)
            save()
        for rate in args.rate if args.rate_applications > 0 else []:
            _say(f"== steady rate: {args.rate_applications} applications at {rate:g}/s")
            steady.append(
                await pipeline.run(
                    pipeline.RunSpec(args.rate_applications, kecamatan_codes(1), rate=rate),
                    config,
                    log=_say,
                )
            )
            save()
        if args.sweep_applications > 0:
            points = [(args.sweep_applications, k) for k in args.kecamatan_counts]
            points += [
                (args.sweep_applications * s, 1)
                for s in args.scales
                if (args.sweep_applications * s, 1) not in points
            ]
            for n, k in points:
                _say(f"== cost growth: {n} applications over {k} kecamatan")
                for attempt in (1, 2):  # a point whose deployment did not come up: once more
                    try:
                        sweep.append(
                            await pipeline.run(
                                pipeline.RunSpec(n, kecamatan_codes(k)), config, log=_say
                            )
                        )
                        break
                    except (RuntimeError, TimeoutError) as error:  # the other points still count
                        _say(f"   FAILED (attempt {attempt}): {error}")
                        machine.setdefault("failed_points", []).append(f"{n}x{k}: {error}")
                save()
        if args.scale_out > 0:

            def point(figures: dict[str, Any]) -> None:
                scale.append(figures)
                save()

            await scale_out.run(config, args.scale_out, _say, point)
        sizes = args.abis_sizes.strip(",").strip()
        if args.abis_people > 0 or sizes:
            _say(f"== 1:N search: {args.abis_people} people, gallery sizes {sizes or 'none'}")
            abis.update(await _abis(args.abis_people, sizes))
            save()
    except EffectivelyOnceError as error:
        save()
        print(f"\ntuntas bench: {error}", file=sys.stderr)
        return 2
    save()
    doc = report.document(ceiling_result, main_run, steady, sweep, machine)
    _say("")
    _say(report.table(doc))
    if scale:
        _say(scale_out.table(scale))
    if abis:
        _say(abis_table(abis))
    _say(f"\nwritten: {out / 'bench.json'}, {out / 'bench.svg'}")
    return 0
