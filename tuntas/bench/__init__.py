"""``tuntas bench``: the end-to-end benchmark (issue #10). See ``docs/bench.md``."""

from __future__ import annotations

import argparse


def add_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="end-to-end throughput and latency against the Kafka ceiling")
    p.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    raise SystemExit("tuntas bench: not built yet")
