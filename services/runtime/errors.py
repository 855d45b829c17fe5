"""Which failures are worth retrying: the database or the broker being away, not a bad message."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError: a socket to PostgreSQL or Kafka went away
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.AdminShutdownError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT)


class GiveUp(RuntimeError):
    """Transient failures outlasted the retry budget: the process exits non-zero, uncommitted."""
