"""What the runtime retries: the broker or the database away for a moment, never a refusal."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    LeaderNotAvailableError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)

from services.runtime.errors import is_transient, retrying


@pytest.mark.parametrize(
    "error", [LeaderNotAvailableError(), NotLeaderForPartitionError(), NotEnoughReplicasError()]
)
async def test_a_leader_moving_after_a_broker_stopped_is_retried(error: Exception) -> None:
    failures = [error]

    async def send() -> str:
        if failures:
            raise failures.pop()
        return "sent"

    assert is_transient(error)
    assert (
        await retrying("send", send, max_retries=2, backoff_base=0.01, backoff_max=0.01) == "sent"
    )


async def test_a_refusal_from_the_broker_is_raised_at_once() -> None:
    calls = 0

    async def send() -> None:
        nonlocal calls
        calls += 1
        raise TopicAuthorizationFailedError()

    with pytest.raises(TopicAuthorizationFailedError):
        await retrying("send", send, max_retries=5, backoff_base=0.01, backoff_max=0.01)
    assert calls == 1
