"""Operator commands for stuck work: dead letters (list, re-drive) and stuck applications.

Kafka and PostgreSQL come from ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` (default: the
local stack), as for every service.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Coroutine, Sequence
from typing import Any

from services.runtime import db, deadletter, kafka, status
from services.runtime.settings import Connections

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> float:
    """``90``, ``45s``, ``30m``, ``2h``, ``1d`` to seconds."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30m, 2h, 1d)")
    return float(match[1]) * _UNIT[match[2]]


def position(text: str) -> tuple[int, int]:
    """``P:O`` (a DLQ partition and offset) to a pair."""
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise argparse.ArgumentTypeError(f"not PARTITION:OFFSET: {text!r}")
    return int(partition), int(offset)


def _short(value: bytes | None, width: int) -> str:
    text = (value or b"").decode(errors="replace").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


async def dlq_list(topic: str, bootstrap: str) -> list[deadletter.DeadLetter]:
    letters = await deadletter.read_all(bootstrap, topic)
    print(f"{len(letters)} dead letter(s) in {deadletter.dlq_topic(topic)}")
    for d in letters:
        print(
            f"{d.dlq_partition}:{d.dlq_offset}  from {d.source_topic}[{d.source_partition}]"
            f"@{d.source_offset}  service={d.service}  key={_short(d.key, 40)}\n"
            f"    error: {_short(d.error.encode(), 200)}"
        )
    return letters


async def dlq_redrive(
    topic: str, bootstrap: str, chosen: Sequence[tuple[int, int]] | None
) -> list[deadletter.DeadLetter]:
    """Publish the chosen dead letters (``None``: all) back to their source topic."""
    letters = await deadletter.read_all(bootstrap, topic)
    if chosen is not None:
        wanted = set(chosen)
        letters = [d for d in letters if (d.dlq_partition, d.dlq_offset) in wanted]
        missing = wanted - {(d.dlq_partition, d.dlq_offset) for d in letters}
        if missing:
            listed = ", ".join(f"{p}:{o}" for p, o in sorted(missing))
            raise LookupError(f"no dead letter at {listed} in {deadletter.dlq_topic(topic)}")
    producer = kafka.producer(bootstrap)
    await producer.start()
    try:
        await deadletter.redrive(producer, letters)
    finally:
        await producer.stop()
    for d in letters:
        print(f"re-drove {d.dlq_partition}:{d.dlq_offset} to {d.source_topic}")
    print(f"{len(letters)} dead letter(s) re-driven")
    return letters


async def stuck(
    schema: str, dsn: str, older_than: float, kecamatan: str | None
) -> list[status.StatusRow]:
    conn = await db.connect(dsn, schema)
    try:
        rows = await status.stuck(conn, older_than, kecamatan)
    finally:
        await conn.close()
    print(f"{len(rows)} application(s) waiting in {schema} for more than {older_than:.0f}s")
    for r in rows:
        print(
            f"{r.application_id}  kecamatan={r.kecamatan}  state={r.state}"
            f"  since={r.updated_at.isoformat(timespec='seconds')}  redriven={r.redrive_count}"
        )
    return rows


async def redrive(schema: str, dsn: str, application_id: str) -> int:
    """Queue the application's outbound events again; the service's relay publishes them."""
    conn = await db.connect(dsn, schema)
    try:
        if await status.get(conn, application_id) is None:
            raise LookupError(f"no application {application_id} in {schema}")
        count = await status.redrive(conn, application_id)
    finally:
        await conn.close()
    print(f"{count} outbound event(s) of {application_id} queued again in {schema}.outbox")
    return count


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``dlq list|redrive``, ``stuck`` and ``redrive`` to the ``tuntas`` parser."""
    dlq = sub.add_parser("dlq", help="dead letters: list them, re-drive chosen ones")
    dlq_sub = dlq.add_subparsers(dest="action", required=True)
    listing = dlq_sub.add_parser("list", help="list the dead letters of TOPIC")
    listing.add_argument("topic", help="the source topic (its DLQ is TOPIC.dlq)")
    listing.set_defaults(handler=_dlq_list)
    again = dlq_sub.add_parser("redrive", help="publish dead letters back to their topic")
    again.add_argument("topic", help="the source topic (its DLQ is TOPIC.dlq)")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--offset", type=position, action="append", help="DLQ PARTITION:OFFSET (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every dead letter of TOPIC")
    again.set_defaults(handler=_dlq_redrive)

    waiting = sub.add_parser("stuck", help="applications whose work has not moved on")
    waiting.add_argument("schema", help="the service's schema (intake, validation, …)")
    waiting.add_argument("--older-than", type=seconds, default=seconds("30m"), help="e.g. 30m")
    waiting.add_argument("--kecamatan", help="only this kecamatan code")
    waiting.set_defaults(handler=_stuck)

    push = sub.add_parser("redrive", help="publish an application's outbound events again")
    push.add_argument("schema", help="the service's schema")
    push.add_argument("application_id")
    push.set_defaults(handler=_redrive)


def _run(coro: Coroutine[Any, Any, object]) -> int:
    try:
        asyncio.run(coro)
    except LookupError as error:
        print(f"tuntas: {error.args[0]}")
        return 1
    return 0


def _dlq_list(args: argparse.Namespace) -> int:
    return _run(dlq_list(args.topic, Connections().kafka_bootstrap_servers))


def _dlq_redrive(args: argparse.Namespace) -> int:
    chosen = None if args.all else args.offset
    return _run(dlq_redrive(args.topic, Connections().kafka_bootstrap_servers, chosen))


def _stuck(args: argparse.Namespace) -> int:
    env = Connections()
    return _run(stuck(args.schema, env.database_url, args.older_than, args.kecamatan))


def _redrive(args: argparse.Namespace) -> int:
    return _run(redrive(args.schema, Connections().database_url, args.application_id))
