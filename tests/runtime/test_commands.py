"""The idempotent command sequence against real PostgreSQL: a key applies its command once,
replays the first answer, refuses a different body, and concurrent requests with one key queue
up behind the first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from services.runtime import commands, db
from services.runtime.commands import Answer, Command
from services.runtime.db import Conn
from tests.waiting import wait_for

TABLE = "CREATE TABLE counters (id int PRIMARY KEY, state text NOT NULL, n int NOT NULL)"


class Closed(Exception):
    """The command's refusal: the row is not open."""


@pytest.fixture
async def pool(pg_dsn: str, db_schema: str) -> AsyncIterator[asyncpg.Pool]:
    conn = await db.connect(pg_dsn, db_schema)
    await db.migrate(conn, db_schema)
    await conn.execute(TABLE)
    await conn.execute("INSERT INTO counters VALUES (1, 'open', 0)")
    await conn.close()
    pool = await db.create_pool(pg_dsn, db_schema)
    try:
        yield pool
    finally:
        await pool.close()


async def _load(conn: Conn) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT state, n FROM counters WHERE id = 1 FOR UPDATE")
    assert row is not None
    return row


async def _add(conn: Conn, row: asyncpg.Record, by: int) -> Answer:
    if row["state"] != "open":
        raise Closed()
    await conn.execute("UPDATE counters SET n = n + $1 WHERE id = 1", by)
    return Answer(201, {"n": row["n"] + by})


def _adding(by: int, key: str | None) -> tuple[Command, Any, Any]:
    async def apply(conn: Conn, row: asyncpg.Record) -> Answer:
        return await _add(conn, row, by)

    return Command("add:1", key, {"by": by}), _load, apply


async def _n(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT n FROM counters WHERE id = 1"))


def test_the_request_hash_ignores_key_order_only() -> None:
    assert commands.request_hash({"a": 1, "b": 2}) == commands.request_hash({"b": 2, "a": 1})
    assert commands.request_hash({"a": 1}) != commands.request_hash({"a": 2})


async def test_same_key_and_body_replays_the_answer_and_applies_once(pool: asyncpg.Pool) -> None:
    first = await commands.run(pool, *_adding(5, "k1"))
    again = await commands.run(pool, *_adding(5, "k1"))
    assert first == Answer(201, {"n": 5})
    assert again == Answer(201, {"n": 5}, replayed=True)
    assert await _n(pool) == 5
    # Another key is another request; no key, no replay.
    assert (await commands.run(pool, *_adding(5, "k2"))).body == {"n": 10}
    assert (await commands.run(pool, *_adding(1, None))).body == {"n": 11}
    assert (await commands.run(pool, *_adding(1, None))).body == {"n": 12}
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 2


async def test_same_key_with_another_body_is_refused_and_applies_nothing(
    pool: asyncpg.Pool,
) -> None:
    await commands.run(pool, *_adding(5, "k1"))
    with pytest.raises(commands.KeyReused) as refused:
        await commands.run(pool, *_adding(6, "k1"))
    assert (refused.value.scope, refused.value.key) == ("add:1", "k1")
    assert await _n(pool) == 5


async def test_a_refused_command_stores_nothing_and_its_key_can_be_retried(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute("UPDATE counters SET state = 'closed'")
    with pytest.raises(Closed):
        await commands.run(pool, *_adding(5, "k1"))
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    await pool.execute("UPDATE counters SET state = 'open'")
    assert await commands.run(pool, *_adding(5, "k1")) == Answer(201, {"n": 5})


async def test_concurrent_requests_with_one_key_apply_once(pool: asyncpg.Pool) -> None:
    release = asyncio.Event()
    command, load, _ = _adding(5, "same")

    async def slow_apply(conn: Conn, row: asyncpg.Record) -> Answer:
        await release.wait()  # hold the key while the others arrive
        return await _add(conn, row, 5)

    first = asyncio.ensure_future(commands.run(pool, command, load, slow_apply))

    async def first_holds_the_key() -> bool:
        return bool(
            await pool.fetchval("SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory'")
        )

    await wait_for(first_holds_the_key, what="the first request to take the key")
    others = [
        asyncio.ensure_future(commands.run(pool, command, load, slow_apply)) for _ in range(3)
    ]

    async def others_wait() -> bool:
        return bool(
            await pool.fetchval(
                "SELECT count(*) = 3 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
        )

    await wait_for(others_wait, what="the other requests to queue on the key")
    release.set()
    answers = await asyncio.gather(first, *others)
    assert [a.replayed for a in answers] == [False, True, True, True]
    assert {a.body["n"] for a in answers} == {5}
    assert await _n(pool) == 5
