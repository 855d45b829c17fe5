"""`tuntas demo`: a simulated working day at several kecamatan offices, Tempeh first.

Starts everything as `tuntas up` does (real Kafka, PostgreSQL, PC/SC virtual readers, CUPS
queues, the five stages), in a database and topic namespace of the run's own, loads the
population registry and the earlier biometric records, then lets the autopilot act the day
out through the staff APIs while progress bars follow the events on the topics. It ends with
"two weeks later" for the cards left at the office (SMS reminders, the call list) and a report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from schemas.regions import lumajang
from schemas.topics import Topics
from schemas.values import RegionLevel, parse_region_code, today_in_indonesia
from simulators.registry import write_file
from tuntas import topology, up
from tuntas.demo import report, scenario
from tuntas.demo.autopilot import Autopilot, DemoError, Journal, staff_client
from tuntas.demo.public_voice import PublicVoice
from tuntas.demo.watch import Seen, Watcher, run_topics
from tuntas.stack import local
from tuntas.supervisor import Supervisor

# Entered around the office day with the running deployment (`tuntas chaos`: the faults).
DayHook = Callable[[Supervisor, topology.Options], contextlib.AbstractAsyncContextManager[object]]


@dataclass(frozen=True)
class DemoOptions:
    applicants: int = 60
    kecamatan: tuple[str, ...] = scenario.DEFAULT_KECAMATAN
    seed: int = 2026
    day_s: float = 60.0  # the office day (08:00-16:00) compressed into this many seconds
    timeout_s: float = 900.0
    out: Path | None = None  # default: <home>/runs/<run>/report
    progress: bool = True
    keep: bool = False  # keep the run's topics and database after the report
    port_offset: int = 0
    even: bool = False  # the applicants shared alike by the offices (scenario.split)


@dataclass(frozen=True)
class DemoResult:
    report: report.DayReport
    options: topology.Options
    endpoints_db: str
    plan: scenario.Plan


def kecamatan_names() -> dict[str, str]:
    return {r.code: r.name for r in lumajang().children("3508", RegionLevel.KABUPATEN)}


async def _cli(env: dict[str, str], *argv: str) -> str:
    """Run one of the stages' own command-line tools, as district IT would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace").strip()
    if proc.returncode != 0:
        raise DemoError(f"{' '.join(argv[:3])} failed: {text[-500:]}")
    return text.splitlines()[-1] if text else ""


async def prepare(plan: scenario.Plan, supervisor: Supervisor, folder: Path, say: Console) -> None:
    """The registry extract into validation; the earlier recordings into biometric."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    validation_env = dict(supervisor.states["validation"].spec.env)
    biometric_env = dict(supervisor.states["biometric"].spec.env)
    for office in plan.offices:
        code = office.kecamatan
        path = folder / f"registry-{code}.csv"
        write_file(office.registry, path)
        say.print(
            await _cli(validation_env, "-m", "services.validation.registry", "import", str(path))
        )
        earlier = [v.resident.nik for v in office.visitors if v.already_recorded]
        if earlier:
            niks = folder / f"earlier-{code}.txt"
            niks.write_text("".join(f"{n}\n" for n in earlier))
            export = folder / f"earlier-{code}.jsonl"  # the national export, simulated
            await _cli(
                {}, "-m", "simulators.capture", "earlier", "--nik-file", str(niks),
                "--out", str(export),
            )  # fmt: skip
            line = await _cli(
                biometric_env,
                "-m", "services.biometric.earlier", "--kecamatan", code,
                "--records-file", str(export),
            )  # fmt: skip
            say.print(f"{code}: {line}")


STAGE_BARS = (
    ("desk: files accepted", ("application.accepted",)),
    ("validated", ("application.validated",)),
    ("biometrics done", ("biometrics.recorded", "biometrics.skipped")),
    ("printed", ("card.printed",)),
    ("ready for collection", ("card.ready_for_collection",)),
    ("collected / left at office", ("card.collected", "card.stored_uncollected")),
)


async def _follow(seen: Seen, total: int, progress: Progress) -> None:
    bars = [(progress.add_task(label, total=total), types) for label, types in STAGE_BARS]
    while True:
        for task, types in bars:
            done: set[object] = set()
            for t in types:
                done |= seen.applications_with(t)
            progress.update(task, completed=len(done))
        await asyncio.sleep(0.5)


async def run_demo(
    opts: DemoOptions,
    console: Console | None = None,
    during: DayHook | None = None,
) -> DemoResult:
    say = console or Console()
    config = local.StackConfig.from_env()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"demo-{stamp}-{os.getpid()}"
    options = topology.Options(
        home=config.home,
        kecamatan=opts.kecamatan,
        topic_prefix=f"{name}.",
        database=name.replace("-", "_"),
        run_name=name,
        port_offset=opts.port_offset,
        smsc_port=topology.SMSC_PORT,
    )
    plan = scenario.plan_day(
        opts.applicants, opts.kecamatan, seed=opts.seed, today=today_in_indonesia(), even=opts.even
    )
    names = kecamatan_names()
    say.print(
        f"[bold]Tuntas demo[/] run {name}: {len(plan.visitors)} applicants at "
        + ", ".join(f"{names.get(o.kecamatan, o.kecamatan)} ({o.cards})" for o in plan.offices)
        + f"; seed {plan.seed}"
    )
    say.print("starting Kafka, PostgreSQL, pcscd, CUPS and the services …")
    started = time.monotonic()
    outputs = topology.outputs(options)
    watcher: Watcher | None = None
    try:
        async with up.running(options, config) as supervisor:
            took = time.monotonic() - started
            say.print(f"all {len(supervisor.states)} processes healthy in {took:.0f} s")
            say.print(topology.console_banner(options), markup=False, highlight=False)
            await prepare(plan, supervisor, outputs / "input", say)
            # The operator's own access, not a stage's: on the local stack a stage's env names
            # its SASL listener and its row-level-security database role.
            bootstrap = config.external_kafka or config.kafka().bootstrap
            server = config.external_db or config.postgres().dsn
            db_url = urlsplit(server)._replace(path=f"/{options.database}").geturl()
            topics = run_topics(Topics(options.topic_prefix), opts.kecamatan)
            watcher = Watcher(bootstrap, topics)
            await watcher.start()
            journal = Journal()
            issuer = supervisor.states["intake"].spec.env["TUNTAS_OIDC_ISSUER"]
            async with staff_client(journal, issuer) as http:
                pilot = Autopilot(
                    plan, options, http, watcher.seen, day_s=opts.day_s, journal=journal
                )
                voice = PublicVoice(
                    plan, options, http, names, day_s=opts.day_s, as_staff=pilot._as
                )
                progress = Progress(
                    TextColumn("{task.description:28}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    console=say,
                    disable=not opts.progress,
                )
                with progress:
                    follower = asyncio.ensure_future(
                        _follow(watcher.seen, len(plan.visitors), progress)
                    )
                    try:
                        async with (
                            during(supervisor, options) if during else contextlib.nullcontext()
                        ):
                            await asyncio.gather(pilot.run_day(opts.timeout_s), voice.during_day())
                        calls = await pilot.days_after(supervisor, timeout_s=120)
                        await voice.after_day(pilot.finished, opts.out or outputs / "report")
                    finally:
                        follower.cancel()
        # Everything stopped: what is on the topics now is the whole run.
        await watcher.caught_up()
    finally:
        if watcher is not None:
            await watcher.stop()
    result = report.build(
        plan,
        watcher.seen,
        pilot.journal,
        run=name,
        calls=len(calls),
        pdf_dir=topology.pdf_root(options),
        sms_log=topology.sms_log(options),
        names=names,
    )
    result.voice = voice.voice
    report.write(result, opts.out or outputs / "report")
    report.show(result, say)
    if not opts.keep:
        # The report and files stay; the run's topics and database go, or a local broker
        # fills its heap with partitions after a few dozen demos.
        assert options.database is not None
        server = urlsplit(db_url)._replace(path="/postgres").geturl()
        dropped = await up.drop_topics(bootstrap, options.topic_prefix)
        await up.drop_database(server, options.database)
        say.print(f"removed the run's {dropped} topics and database (keep them: --keep)")
    return DemoResult(result, options, db_url, plan)


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "demo", help="a simulated working day at several kecamatan offices, with a report"
    )
    p.add_argument("--applicants", type=int, default=DemoOptions.applicants)
    p.add_argument(
        "--kecamatan",
        nargs="+",
        default=list(scenario.DEFAULT_KECAMATAN),
        help="kecamatan codes (default: Tempeh 350805, Pasirian 350804, Kunir 350806)",
    )
    p.add_argument("--seed", type=int, default=DemoOptions.seed)
    p.add_argument(
        "--day-seconds", type=float, default=DemoOptions.day_s, help="length of the office day"
    )
    p.add_argument("--out", type=Path, help="report folder (default: under TUNTAS_HOME)")
    p.add_argument(
        "--keep", action="store_true", help="keep the run's topics and database afterwards"
    )
    p.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    try:
        kecamatan = tuple(parse_region_code(k, RegionLevel.KECAMATAN) for k in args.kecamatan)
    except ValueError as error:
        print(f"tuntas demo: --kecamatan: {error}", file=sys.stderr)
        return 2
    opts = DemoOptions(
        applicants=args.applicants,
        kecamatan=kecamatan,
        seed=args.seed,
        day_s=args.day_seconds,
        out=args.out,
        progress=sys.stdout.isatty(),
        keep=args.keep,
    )
    try:
        asyncio.run(run_demo(opts))
    except (DemoError, ValueError) as error:
        print(f"tuntas demo: {error}", file=sys.stderr)
        return 1
    return 0
