"""Token bucket limiting submit_sm PDUs to the rate the SMSC contract allows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; one token per submit_sm.

    Clock and sleep are injectable so tests can check the arithmetic without wall-clock time.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()  # FIFO: waiters are served in arrival order

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        self._refill()
        # The epsilon absorbs float error (0.1 s * 10/s may refill to 0.99999...), which
        # would otherwise ask for sleeps too small to move the clock.
        if self._tokens >= 1 - 1e-9:
            self._tokens = max(0.0, self._tokens - 1)
            return 0.0
        return (1 - self._tokens) / self.rate

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self.try_acquire()) > 0:
                await self._sleep(wait)
