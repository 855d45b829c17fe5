"""Idempotent commands on one application: the sequence every HTTP action with a key follows.

:func:`run` does, in one transaction: take the idempotency key (an advisory lock on scope and
key, so concurrent requests with one key queue up), replay the answer stored for it, else load
and lock the row the command acts on, apply the command (which checks the row's state first and
raises to refuse), and store the answer with the key.

The guarantee: for one ``(scope, key)``, the command is applied at most once and every request
with that key gets the first applied answer; the answer and the change commit together, so a
crash leaves both or neither. A key already used with a different request body raises
:class:`KeyReused` (the caller answers 4xx). A refusal raised by ``apply`` rolls back and stores
nothing: the same key may be tried again. Without a key the command still runs in one
transaction with its row locked, only nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import asyncpg

from services.runtime import crashpoints
from services.runtime.db import Conn

Row = TypeVar("Row")


@dataclass(frozen=True)
class Command:
    """What identifies a request: ``scope`` names the action (and its application), ``key`` is
    the client's Idempotency-Key (``None``: no replay), ``request`` the JSON body it sent."""

    scope: str
    key: str | None
    request: Any


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and JSON body; ``replayed`` when it is the stored one."""

    status_code: int
    body: Any
    replayed: bool = False


class KeyReused(Exception):
    """The key was already used in this scope for a different request."""

    def __init__(self, scope: str, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used for a different request ({scope})")
        self.scope = scope
        self.key = key


def request_hash(body: Any) -> str:
    """A stable hash of a request body (keys sorted): the same key must mean the same request."""
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run(
    pool: asyncpg.Pool,
    command: Command,
    load: Callable[[Conn], Awaitable[Row]],
    apply: Callable[[Conn, Row], Awaitable[Answer]],
) -> Answer:
    """Run ``command`` once: ``load`` reads and locks (``FOR UPDATE``) its row, ``apply`` checks
    the row's state, changes it and returns the answer. Then the crash point
    ``after_http_commit``: committed, not yet answered."""
    digest = request_hash(command.request)
    async with pool.acquire() as conn, conn.transaction():
        if command.key is not None:
            stored = await _claim(conn, command.scope, command.key)
            if stored is not None:
                if stored[0] != digest:
                    raise KeyReused(command.scope, command.key)
                return replace(stored[1], replayed=True)
        answer = await apply(conn, await load(conn))
        if command.key is not None:
            await conn.execute(
                "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)"
                " VALUES ($1, $2, $3, $4, $5)",
                command.scope,
                command.key,
                digest,
                answer.status_code,
                answer.body,
            )
    crashpoints.reach("after_http_commit")
    return answer


async def _claim(conn: Conn, scope: str, key: str) -> tuple[str, Answer] | None:
    """Hold the key until the transaction ends; the stored (request hash, answer), if any."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{scope}\n{key}")
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys"
        " WHERE scope = $1 AND key = $2",
        scope,
        key,
    )
    if row is None:
        return None
    return row["request_hash"], Answer(row["status_code"], row["response"])
