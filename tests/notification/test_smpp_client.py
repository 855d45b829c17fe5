"""The SMPP client against the real local SMSC (`python -m simulators.smsc`), a process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from services.notification.sms import (
    DeliveryReceipt,
    PermanentSmsError,
    SmppClient,
    TransientSmsError,
)
from services.notification.sms.templates import Language, Template, render
from services.notification.sms.throttle import TokenBucket
from tests.notification.conftest import Smsc
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port

LONG_ID = (
    "Yth. Bapak/Ibu, berkas permohonan KTP-el Anda telah diterima lengkap di Kantor Kecamatan "
    "Tempeh dan sedang diproses. Perekaman biometrik (sidik jari, iris, foto wajah, tanda "
    "tangan) dilakukan di loket 2 bagi pemohon yang belum pernah merekam. Pencetakan selesai "
    "dalam 1 hari kerja sejak berkas dinyatakan lengkap. Layanan ini GRATIS, tanpa pungutan "
    "apa pun. Keluhan dan saran: kotak saran, situs web, telepon atau e-mail kecamatan."
)


async def _receipts(client: SmppClient, n: int) -> list[DeliveryReceipt]:
    return [await asyncio.wait_for(client.receipts.get(), 20) for _ in range(n)]


async def test_one_submit_is_recorded_once_and_its_receipt_comes_back(
    smsc: Smsc, client: SmppClient, msisdn: str
) -> None:
    sent = await client.send(msisdn, "Halo, berkas KTP-el Anda diterima. Biaya €0 [gratis].")
    assert sent.parts == 1
    (receipt,) = await _receipts(client, 1)
    assert (receipt.message_id, receipt.delivered) == (sent.message_ids[0], True)
    (row,) = await wait_for(lambda: smsc.records(msisdn), what="the SMS in the log")
    assert row["text"] == "Halo, berkas KTP-el Anda diterima. Biaya €0 [gratis]."
    assert (row["data_coding"], row["parts"], row["message_ids"]) == (0, 1, list(sent.message_ids))
    assert row["source"] == "6233488001"


async def test_long_indonesian_message_arrives_concatenated_and_intact(
    smsc: Smsc, client: SmppClient, msisdn: str
) -> None:
    assert len(LONG_ID) > 306
    sent = await client.send(msisdn, LONG_ID)
    assert sent.parts == 3
    (row,) = await wait_for(lambda: smsc.records(msisdn), what="the reassembled SMS")
    assert (row["text"], row["parts"], row["data_coding"]) == (LONG_ID, 3, 0)
    assert row["message_ids"] == list(sent.message_ids)
    receipts = await _receipts(client, 3)
    assert {r.message_id for r in receipts} == set(sent.message_ids)


async def test_ucs2_name_arrives_intact(smsc: Smsc, client: SmppClient, msisdn: str) -> None:
    text = render(
        Template.CARD_READY,
        Language.ID,
        {
            "name": "Ṣāliḥ Ḥasan",
            "tracking_number": "3508-20250114-0042",
            "office": "Kantor Kecamatan Tempeh",
            "office_hours": "Senin-Jumat 08.00-15.00",
        },
    )
    sent = await client.send(msisdn, text)
    (row,) = await wait_for(lambda: smsc.records(msisdn), what="the UCS-2 SMS")
    assert (row["text"], row["data_coding"], row["parts"]) == (text, 8, sent.parts)
    assert sent.parts == -(-len(text) // 67)  # no surrogates here: 67 UTF-16 units per part


async def test_submits_are_paced_by_the_token_bucket(smsc: Smsc, msisdn: str) -> None:
    now = 0.0

    def clock() -> float:
        return now

    async def sleep(seconds: float) -> None:
        nonlocal now
        now += seconds
        await asyncio.sleep(0)

    bucket = TokenBucket(10, burst=1, clock=clock, sleep=sleep)
    async with SmppClient(smsc.config(rate_per_s=10), bucket=bucket) as client:
        for i in range(20):
            await client.send(msisdn, f"pesan {i}")
    assert now == pytest.approx(1.9)  # 20 submits at 10/s: 19 gaps of 0.1 s
    await wait_for(lambda: len(smsc.records(msisdn)) == 20, what="20 SMS in the log")
    rows = smsc.records(msisdn)
    assert [r["text"] for r in rows] == [f"pesan {i}" for i in range(20)]


async def test_throttled_submits_are_retried(
    faulty_smsc: Callable[..., Awaitable[Smsc]], msisdn: str
) -> None:
    smsc = await faulty_smsc("--throttle-first", "2")
    backoffs: list[float] = []

    async def sleep(seconds: float) -> None:
        backoffs.append(seconds)
        await asyncio.sleep(0)

    async with SmppClient(smsc.config(), sleep=sleep) as client:
        sent = await client.send(msisdn, "KTP-el Anda sudah jadi.")
    assert len(backoffs) == 2  # two ESME_RTHROTTLED answers, then accepted
    (row,) = await wait_for(lambda: smsc.records(msisdn), what="the SMS after throttling")
    assert row["message_ids"] == list(sent.message_ids)


async def test_still_throttled_after_max_attempts_is_a_transient_error(
    faulty_smsc: Callable[..., Awaitable[Smsc]], msisdn: str
) -> None:
    smsc = await faulty_smsc("--throttle-first", "100")
    async with SmppClient(smsc.config(max_attempts=3)) as client:
        with pytest.raises(TransientSmsError) as e:
            await client.send(msisdn, "Halo")
    assert e.value.command_status == 0x58
    assert smsc.records() == []


async def test_dropped_connection_reconnects_and_sends_once(
    faulty_smsc: Callable[..., Awaitable[Smsc]], msisdn: str
) -> None:
    smsc = await faulty_smsc("--drop-after", "1")
    async with SmppClient(smsc.config()) as client:
        await client.send(msisdn, "pesan pertama")
        second = await client.send(msisdn, "pesan kedua")  # the SMSC ends the session on this
        assert client.binds == 2
        await wait_for(lambda: len(smsc.records(msisdn)) == 2, what="both SMS in the log")
        rows = smsc.records(msisdn)
        assert [r["text"] for r in rows] == ["pesan pertama", "pesan kedua"]
        assert rows[1]["message_ids"] == list(second.message_ids)
        # Receipts keep flowing on the new session.
        third = await client.send(msisdn, "pesan ketiga")
        receipts = {r.message_id for r in await _receipts(client, 3)}
        assert set(third.message_ids) <= receipts


async def test_unreachable_smsc_is_a_transient_error(smsc: Smsc, msisdn: str) -> None:
    from tuntas.stack.prereq import free_port

    client = SmppClient(smsc.config(port=free_port(), max_attempts=2))
    with pytest.raises(TransientSmsError, match="unreachable"):
        await client.send(msisdn, "Halo")
    await client.close()


async def test_the_submit_is_noted_only_once_bound_and_once_per_message(
    smsc: Smsc, msisdn: str
) -> None:
    """The sender notes "the SMSC may have it" through `before_submit`. Noted before a bind,
    a kill while binding cost an SMS (11 of the 28 "outcome unknown" rows of the large chaos
    day's attempt 10 were not on the SMSC's log): only a bound session notes it now."""
    notes: list[int] = []

    async def note() -> None:
        notes.append(len(smsc.records(msisdn)))  # what the SMSC had when the note was taken

    unreachable = SmppClient(smsc.config(port=free_port(), max_attempts=2))
    with pytest.raises(TransientSmsError, match="unreachable"):
        await unreachable.send(msisdn, "Halo", before_submit=note)
    await unreachable.close()
    assert notes == []

    async with SmppClient(smsc.config()) as client:
        sent = await client.send(msisdn, LONG_ID, before_submit=note)
    assert sent.parts == 3 and notes == [0]  # once, before the first part went out
    await wait_for(lambda: smsc.records(msisdn), what="the SMS in the log")


async def test_invalid_number_is_a_permanent_error(client: SmppClient) -> None:
    with pytest.raises(PermanentSmsError):
        await client.send("08123", "Halo")


async def test_a_long_message_split_across_two_sessions_is_recorded_whole(
    faulty_smsc: Callable[..., Awaitable[Smsc]], msisdn: str
) -> None:
    """Part 1 acknowledged, the session ends on part 2, which the client sends again on a new
    session: the SMSC reassembles as a handset does (by reference), not per session; the
    chaos day's checks found such an SMS marked sent and never on the SMSC's log."""
    smsc = await faulty_smsc("--drop-after", "1")
    async with SmppClient(smsc.config()) as client:
        sent = await client.send(msisdn, LONG_ID)
        assert client.binds == 2 and sent.parts == 3
    (row,) = await wait_for(lambda: smsc.records(msisdn), what="the reassembled SMS")
    assert (row["text"], row["message_ids"]) == (LONG_ID, list(sent.message_ids))


class _KilledBetweenParts(SmppClient):
    """The SMSC is SIGKILLed and started again right after it acknowledged the first part."""

    restart: Callable[[], Awaitable[None]]
    restarted = False

    async def _submit(self, dest: Any, body: bytes, coding: int, esm_class: int,
                      before: Any) -> str:  # fmt: skip
        message_id = await super()._submit(dest, body, coding, esm_class, before)
        if not self.restarted:
            self.restarted = True
            await self.restart()
        return message_id


async def test_parts_acknowledged_before_the_smsc_restarts_are_kept(
    tmp_path: Path, msisdn: str
) -> None:
    port, log = free_port(), tmp_path / "sms.jsonl"
    argv = [sys.executable, "-m", "simulators.smsc", "--port", str(port), "--log", str(log)]
    smsc = Smsc(port, log, _popen(argv))

    async def listening() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    async def restart() -> None:
        _kill(smsc.proc)
        smsc.proc = _popen(argv)
        await wait_for(listening, what="the SMSC listening again")

    await wait_for(listening, what="the SMSC listening")
    try:
        client = _KilledBetweenParts(smsc.config())
        client.restart = restart
        async with client:
            sent = await client.send(msisdn, LONG_ID)
        assert client.restarted and sent.parts == 3
        (row,) = await wait_for(lambda: smsc.records(msisdn), what="the SMS after the restart")
        assert (row["text"], row["message_ids"]) == (LONG_ID, list(sent.message_ids))
    finally:
        _kill(smsc.proc)


def _popen(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stderr=subprocess.DEVNULL)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()
