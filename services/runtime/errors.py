"""Which failures are worth retrying: the database or the broker being away, not a bad message."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, NodeNotReadyError

T = TypeVar("T")
log = logging.getLogger("tuntas.retry")

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
    # Kafka marks its own passing states (a partition's leader moving after a broker stopped,
    # too few in-sync replicas for a moment, a coordinator loading) as retriable.
    return isinstance(error, TRANSIENT) or (isinstance(error, KafkaError) and error.retriable)


# A running loop (a consumer's handler, the outbox relay) rides through about a minute of the
# database or broker being away (a PostgreSQL restarted after a hard stop, a leader moving)
# before giving up: exiting costs a supervisor restart and its backoff on top of the outage.
RIDE_THROUGH_RETRIES = 20


class GiveUp(RuntimeError):
    """Transient failures outlasted the retry budget: the process exits non-zero, uncommitted."""


async def retrying(
    what: str,
    attempt_once: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    backoff_base: float,
    backoff_max: float,
) -> T:
    """Run ``attempt_once``; on a transient error retry with jittered exponential backoff.

    Any other error is raised at once; after ``max_retries`` retries, :class:`GiveUp`.
    """
    attempt = 0
    while True:
        try:
            return await attempt_once()
        except Exception as error:
            if not is_transient(error):
                raise
            attempt += 1
            if attempt > max_retries:
                raise GiveUp(
                    f"{what}: gave up after {attempt - 1} retries: {type(error).__name__}: {error}"
                ) from error
            delay = min(backoff_max, backoff_base * 2**attempt) * random.uniform(0.5, 1.0)
            log.warning(
                "%s: transient failure (%s: %s), retry %d in %.2fs",
                what,
                type(error).__name__,
                error,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
