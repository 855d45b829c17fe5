"""`tuntas`: the operator's command line. Each subcommand drives the system from outside."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from tuntas import bench, bench_stage, chaos, demo, ops
from tuntas.deploy import cli as deploy
from tuntas.stack import local
from tuntas.stack.errors import StackError


def _stack_up(args: argparse.Namespace) -> int:
    config = local.StackConfig.from_env()
    endpoints = local.up(config, identity=True)
    for key, value in endpoints.as_env().items():
        print(f"{key}={value}")
    return 0


def _stack_fetch(args: argparse.Namespace) -> int:
    from tuntas.stack.kafka import ensure_jars, kafka_version
    from tuntas.stack.keycloak import ensure_dist, keycloak_version

    config = local.StackConfig.from_env()
    libs = ensure_jars(config.cache)
    size = sum(f.stat().st_size for f in libs.iterdir()) >> 20
    print(f"Kafka {kafka_version()} jars in {libs} ({size} MiB)")
    print(f"Keycloak {keycloak_version()} in {ensure_dist(config.cache)}")
    return 0


def _stack_down(args: argparse.Namespace) -> int:
    stopped = local.down(local.StackConfig.from_env())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _stack_status(args: argparse.Namespace) -> int:
    for name, state in local.status(local.StackConfig.from_env()).items():
        print(f"{name:10} {state}")
    return 0


def _stack_env(args: argparse.Namespace) -> int:
    """Print `export` lines for a running stack, for `eval "$(tuntas stack env)"`."""
    config = local.StackConfig.from_env()
    kafka = config.external_kafka or config.kafka().bootstrap
    dsn = config.external_db or config.postgres().dsn
    print(f"export KAFKA_BOOTSTRAP_SERVERS={kafka}")
    print(f"export DATABASE_URL={dsn}")
    issuer = config.oidc_issuer()
    if issuer:
        print(f"export TUNTAS_OIDC_ISSUER={issuer}")
    return 0


def _up(args: argparse.Namespace) -> int:
    import asyncio

    from tuntas import topology, up

    config = local.StackConfig.from_env()
    try:
        processes = topology.parse_processes(args.processes)
    except ValueError as error:
        print(f"tuntas up --processes: {error}", file=sys.stderr)
        return 2
    options = topology.Options(
        home=config.home, kecamatan=tuple(args.kecamatan), processes=processes
    )
    return asyncio.run(up.run(options))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tuntas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack", help="the local Kafka, PostgreSQL and Keycloak")
    stack_sub = stack.add_subparsers(dest="action", required=True)
    actions: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "up": (
            "start Kafka (KRaft), PostgreSQL and Keycloak unless given by the environment",
            _stack_up,
        ),
        "down": ("stop what `up` started", _stack_down),
        "fetch": ("fetch the pinned Kafka jars and Keycloak from Maven Central", _stack_fetch),
        "status": ("show what runs and where", _stack_status),
        "env": ("print export lines for the running stack", _stack_env),
    }
    for name, (help_text, handler) in actions.items():
        stack_sub.add_parser(name, help=help_text).set_defaults(handler=handler)
    run_all = sub.add_parser("up", help="start the stack and every service, supervised")
    run_all.add_argument(
        "--kecamatan",
        nargs="+",
        default=["350805"],
        help="kecamatan codes with a card station (default: Tempeh 350805)",
    )
    run_all.add_argument(
        "--processes",
        default=os.environ.get("TUNTAS_PROCESSES_PER_STAGE", "1"),
        help="processes per stage in one consumer group: N for intake, validation, biometric"
        " and notification, or e.g. intake=2,validation=2 (default $TUNTAS_PROCESSES_PER_STAGE"
        " or 1; process r listens on the stage's port + 100·(r-1), docs/deployment.md)",
    )
    run_all.set_defaults(handler=_up)
    ops.add_commands(sub)
    bench_stage.add_command(sub)
    demo.add_command(sub)
    deploy.add_command(sub)
    bench.add_command(sub)
    chaos.add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except StackError as error:
        print(f"tuntas: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
