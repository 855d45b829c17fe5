"""The test stage as a real OS process, for crash tests: start it, SIGKILL it, start it again.

    python -m tests.runtime.stage_proc --schema S --src T1 --dst T2 [--batch-size 20] ...

Kafka and PostgreSQL come from ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL``; a crash point
from ``TUNTAS_CRASH_AT`` (see ``services.runtime.crashpoints``). Each input ``Ping`` adds a row
to ``applied`` (no uniqueness: a double application would show) and emits one ``pong`` to
``--dst``. Exit codes: 0 after SIGTERM, 2 after ``GiveUp`` (transient failures outlasted the
retries), 1 on any other error, -9 when a crash point fired.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from services.runtime import logs
from services.runtime.db import Conn
from services.runtime.errors import GiveUp
from services.runtime.messages import Emit, PoisonMessage
from services.runtime.service import Subscription, run
from services.runtime.settings import Connections
from tests.runtime.stage_kit import Ping, parse

MIGRATIONS = Path(__file__).parent / "migrations"
GIVE_UP_EXIT = 2
log = logging.getLogger("tuntas.stage_proc")


def make_handler(dst: str, slow_ms: int = 0):  # type: ignore[no-untyped-def]
    pid = os.getpid()

    async def handle(event: Ping, conn: Conn) -> Sequence[Emit]:
        if event.n < 0:
            raise PoisonMessage(f"n must be >= 0, got {event.n}")
        if slow_ms:
            await asyncio.sleep(slow_ms / 1000)  # a stand-in for real work (SIGTERM tests)
        await conn.execute(
            "INSERT INTO applied (application_id, message_id, n, pid) VALUES ($1, $2, $3, $4)",
            str(event.correlation_id),
            event.message_id,
            event.n,
            pid,
        )
        pong = Ping(correlation_id=event.correlation_id, name=event.name, n=event.n, type="pong")
        return [Emit(dst, pong)]

    return handle


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="stage_proc", description=__doc__)
    p.add_argument("--schema", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--group", help="consumer group (default: SRC.stage)")
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--instance-id", help="static group membership: fast restarts")
    p.add_argument("--session-timeout-ms", type=int, default=6000)
    p.add_argument("--max-retries", type=int, default=6)
    p.add_argument("--backoff-base", type=float, default=0.2)
    p.add_argument("--slow-ms", type=int, default=0, help="per-message handler delay")
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    env = Connections()
    await run(
        service="stage",
        schema=args.schema,
        dsn=env.database_url,
        bootstrap=env.kafka_bootstrap_servers,
        migrations=MIGRATIONS,
        topics=[(args.src, args.partitions), (args.dst, args.partitions)],
        subscriptions=[
            Subscription(
                [args.src], make_handler(args.dst, args.slow_ms), args.group or f"{args.src}.stage"
            )
        ],
        parse=parse,
        batch_size=args.batch_size,
        consumer_options={
            "group_instance_id": args.instance_id,
            "session_timeout_ms": args.session_timeout_ms,
            "max_retries": args.max_retries,
            "backoff_base": args.backoff_base,
            "backoff_max": 2.0,
        },
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    logs.configure("stage", os.environ.get("TUNTAS_LOG_LEVEL", "WARNING"))
    try:
        asyncio.run(serve(args))
    except GiveUp as error:
        log.error("giving up: %s", error)
        return GIVE_UP_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
