"""Token bucket arithmetic (controllable clock), backoff bounds, receipt parsing, addresses."""

from __future__ import annotations

import itertools

import pytest

from services.notification.sms.client import backoff_delay, destination_address, source_address
from services.notification.sms.errors import (
    PermanentSmsError,
    TransientSmsError,
    error_for_status,
)
from services.notification.sms.receipts import is_delivery_receipt, parse_receipt
from services.notification.sms.throttle import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_bucket_spaces_twenty_acquires_at_ten_per_second() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=1, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(20):
        await bucket.acquire()
        times.append(clock.now)
    assert times[0] == 0
    assert times[-1] == pytest.approx(1.9)
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(times))


async def test_bucket_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await bucket.acquire()
    assert clock.now == 0
    assert bucket.try_acquire() == pytest.approx(0.2)
    clock.now += 10  # idle time saves up no more than the burst
    assert [bucket.try_acquire() for _ in range(4)][:3] == [0, 0, 0]
    assert bucket.try_acquire() > 0


def test_backoff_is_bounded_and_jittered() -> None:
    assert backoff_delay(0, 0.5, 30, lambda: 0.0) == 0.25
    assert backoff_delay(0, 0.5, 30, lambda: 1.0) == 0.5
    assert backoff_delay(3, 0.5, 30, lambda: 1.0) == 4.0
    assert backoff_delay(20, 0.5, 30, lambda: 1.0) == 30.0
    assert backoff_delay(20, 0.5, 30, lambda: 0.0) == 15.0


def test_status_classification() -> None:
    assert isinstance(error_for_status(0x58, "x"), TransientSmsError)
    assert isinstance(error_for_status(0x08, "x"), TransientSmsError)
    assert isinstance(error_for_status(0x14, "x"), TransientSmsError)
    assert isinstance(error_for_status(0x0B, "x"), PermanentSmsError)
    assert error_for_status(0x0B, "x").command_status == 0x0B


def test_receipt_parsing() -> None:
    text = (
        "id:7f3a9c sub:001 dlvrd:001 submit date:2501141030 done date:2501141031 "
        "stat:DELIVRD err:000 text:Yth. Siti"
    )
    r = parse_receipt(text, "6281234567890")
    assert (r.message_id, r.stat, r.err, r.done_date, r.delivered) == (
        "7f3a9c",
        "DELIVRD",
        "000",
        "2501141031",
        True,
    )
    assert not parse_receipt("id:1 stat:UNDELIV err:001", "62").delivered
    with pytest.raises(ValueError):
        parse_receipt("Halo, ini SMS biasa", "62")
    assert is_delivery_receipt(0x04)
    assert not is_delivery_receipt(0x00)


def test_addresses() -> None:
    assert destination_address("+62 812 3456 7890").addr == "6281234567890"
    assert (destination_address("+6281234567890").ton, destination_address("+628123456").npi) == (
        1,
        1,
    )
    with pytest.raises(PermanentSmsError):
        destination_address("0812345678")  # national format: the caller must normalise
    assert (source_address("DUKCAPIL").ton, source_address("+6233488001").ton) == (5, 1)
    with pytest.raises(ValueError):
        source_address("DUKCAPIL-LUMAJANG")
