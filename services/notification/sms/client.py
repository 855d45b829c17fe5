"""Async SMPP 3.4 client (ESME) for applicant SMS, over the `smpp34` session engine.

smpp34's Rust core does framing, sequence windowing, enquire_link every 30 s and the
deliver_sm_resp; this module adds what the product needs on top: addressing, GSM-7/UCS-2 and
concatenation, throttling, typed errors, bounded retry and reconnect, and delivery receipts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

import smpp34

from .encoding import DataCoding, encode_message, is_gsm7
from .errors import (
    ESME_RBINDFAIL,
    ESME_RINVPASWD,
    ESME_RINVSYSID,
    PermanentSmsError,
    SmsError,
    TransientSmsError,
    error_for_status,
)
from .receipts import DeliveryReceipt, is_delivery_receipt, parse_receipt
from .throttle import TokenBucket

log = logging.getLogger(__name__)
Hook = Callable[[], Awaitable[None]]

TON_INTERNATIONAL, NPI_ISDN = 0x01, 0x01
TON_ALPHANUMERIC, NPI_UNKNOWN = 0x05, 0x00
REGISTERED_DELIVERY_FINAL = 0x01  # receipt on final delivery outcome, success or failure
_E164 = re.compile(r"\+?([1-9]\d{7,14})")
_STATUS_IN_ERROR = re.compile(r"\(0x([0-9A-Fa-f]+)\)")  # smpp34: "ESME_RINVPASWD (0x0000000E)"
_BIND_REJECTED = frozenset({ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RINVSYSID})


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    source_addr: str  # E.164 number ("+62...") or an alphanumeric sender id (max 11 chars)
    system_type: str = ""
    rate_per_s: float = 10.0  # submit_sm PDUs per second allowed by the SMSC contract
    burst: int = 1
    max_attempts: int = 5  # per bind and per submit_sm, for transient failures
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    connect_timeout_s: float = 10.0
    registered_delivery: bool = True


@dataclass(frozen=True)
class SentSms:
    """An SMS the SMSC accepted: one SMSC message id per part, in part order."""

    message_ids: tuple[str, ...]
    data_coding: DataCoding

    @property
    def parts(self) -> int:
        return len(self.message_ids)


@dataclass(frozen=True)
class Address:
    addr: str
    ton: int
    npi: int


def destination_address(number: str) -> Address:
    """An E.164 number ("+6281234567890") as an international ISDN address."""
    m = _E164.fullmatch(number.replace(" ", ""))
    if not m:
        raise PermanentSmsError(f"not an E.164 number: {number!r}")
    return Address(m.group(1), TON_INTERNATIONAL, NPI_ISDN)


def source_address(sender: str) -> Address:
    if _E164.fullmatch(sender):
        return destination_address(sender)
    if not 1 <= len(sender) <= 11 or not is_gsm7(sender):
        raise ValueError(f"alphanumeric sender id must be 1-11 GSM-7 characters: {sender!r}")
    return Address(sender, TON_ALPHANUMERIC, NPI_UNKNOWN)


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with equal jitter: in [d/2, d], d = min(cap, base * 2.0**attempt)."""
    d = min(cap, base * 2.0**attempt)
    return d / 2 + rng() * d / 2


def _status_of(error: smpp34.SmppError) -> int | None:
    m = _STATUS_IN_ERROR.search(str(error))
    return int(m.group(1), 16) if m else None


class SmppClient:
    """One bind_transceiver session to the SMSC, re-bound on demand after it drops.

    `send` returns once the SMSC has accepted every part; delivery receipts arrive later on
    `receipts` (matched by message id). Safe to call `send` from concurrent tasks.
    """

    def __init__(
        self,
        config: SmppConfig,
        *,
        bucket: TokenBucket | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.receipts: asyncio.Queue[DeliveryReceipt] = asyncio.Queue()
        self._source = source_address(config.source_addr)
        self._bucket = bucket or TokenBucket(config.rate_per_s, config.burst)
        self._sleep = sleep
        self._rng = rng
        self._ref = random.randrange(256)
        self._lock = asyncio.Lock()
        self._client: smpp34.Client | None = None
        self._smsc: smpp34.Smsc | None = None
        self._reader: asyncio.Task[None] | None = None
        self.binds = 0  # successful binds so far; a reconnect shows as binds > 1

    async def __aenter__(self) -> SmppClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _backoff(self, attempt: int) -> float:
        c = self.config
        return backoff_delay(attempt, c.backoff_base_s, c.backoff_max_s, self._rng)

    async def connect(self) -> None:
        """Bind now rather than on the first `send` (fails fast on a wrong password)."""
        await self._session()

    async def _session(self) -> smpp34.Smsc:
        async with self._lock:
            if self._smsc is not None:
                return self._smsc
            c = self.config
            last: Exception | None = None
            for attempt in range(c.max_attempts):
                # smpp34 binds a Client once; a new session needs a new Client.
                client = smpp34.Client(
                    host=c.host,
                    port=c.port,
                    system_id=c.system_id,
                    password=c.password,
                    bind_type="TRX",
                    system_type=c.system_type,
                    connect_timeout_ms=int(c.connect_timeout_s * 1000),
                )
                try:
                    smsc = await client.connect()
                except smpp34.SmppError as e:
                    if _status_of(e) in _BIND_REJECTED:
                        raise PermanentSmsError(
                            f"SMSC rejected the bind: {e}", _status_of(e)
                        ) from e
                    log.warning("SMPP bind to %s:%d failed: %s", c.host, c.port, e)
                    last = e
                    await self._sleep(self._backoff(attempt))
                    continue
                self._client, self._smsc = client, smsc
                self._reader = asyncio.create_task(self._read(client, smsc))
                self.binds += 1
                log.info("SMPP bound to %s:%d as %s", c.host, c.port, c.system_id)
                return smsc
            raise TransientSmsError(f"SMSC {c.host}:{c.port} unreachable: {last}")

    async def _read(self, client: smpp34.Client, smsc: smpp34.Smsc) -> None:
        """Pull inbound deliver_sm until the session ends (smpp34 already sent the resp)."""
        try:
            while True:
                ev = await smsc.next()
                if isinstance(ev, smpp34.Disconnected):
                    log.warning("SMPP session to %s ended", self.config.host)
                    return
                if not is_delivery_receipt(ev.esm_class):
                    log.info("ignoring mobile-originated SMS from the SMSC")
                    continue
                try:
                    receipt = parse_receipt(ev.short_message.decode("latin-1"), ev.source_addr)
                except ValueError as e:
                    log.warning("unparseable delivery receipt: %s", e)
                    continue
                self.receipts.put_nowait(receipt)
        finally:
            await self._forget(client, smsc)

    async def _forget(self, client: smpp34.Client, smsc: smpp34.Smsc) -> None:
        if self._smsc is smsc:
            self._client = self._smsc = None
        with contextlib.suppress(Exception):  # the session is already gone; nothing to do
            await client.stop()

    async def send(self, destination: str, text: str, before_submit: Hook | None = None) -> SentSms:
        """Submit `text` to `destination` (E.164); return the SMSC message ids, one per part.

        `before_submit` is awaited once, just before the first submit_sm goes out (bound, not
        throttled): from then on the SMSC may have the message; before, it cannot.

        Raises PermanentSmsError (bad number, rejected by the SMSC) or TransientSmsError
        (still throttled / unreachable after `max_attempts`: try again later).
        """
        dest = destination_address(destination)
        self._ref = (self._ref + 1) % 256
        message = encode_message(text, self._ref)
        coding, esm, ids = message.data_coding, message.esm_class, []
        for body in message.parts:
            ids.append(await self._submit(dest, body, coding, esm, before_submit))
            before_submit = None
        return SentSms(tuple(ids), message.data_coding)

    async def _submit(
        self, dest: Address, body: bytes, coding: int, esm_class: int, before: Hook | None
    ) -> str:
        error: SmsError = TransientSmsError("no attempt made")
        for attempt in range(self.config.max_attempts):
            if attempt:
                await self._sleep(self._backoff(attempt - 1))
            await self._bucket.acquire()
            smsc = await self._session()
            if before is not None:
                await before()
                before = None
            try:
                resp = await smsc.submit_sm(
                    dest.addr,
                    body,
                    source_addr=self._source.addr,
                    source_addr_ton=self._source.ton,
                    source_addr_npi=self._source.npi,
                    dest_addr_ton=dest.ton,
                    dest_addr_npi=dest.npi,
                    esm_class=esm_class,
                    data_coding=coding,
                    registered_delivery=(
                        REGISTERED_DELIVERY_FINAL if self.config.registered_delivery else 0
                    ),
                )
            except smpp34.SmppError as e:
                # No submit_sm_resp: the session dropped or the response timer (30 s) expired.
                # Either way the SMSC may or may not have the message; resending is the
                # at-least-once choice.
                error = TransientSmsError(f"submit_sm got no response: {e}")
                client = self._client
                if client is not None and self._smsc is smsc and not await client.is_alive():
                    await self._forget(client, smsc)
                log.warning("%s (attempt %d)", error, attempt + 1)
                continue
            if resp.is_success and resp.message_id:
                return resp.message_id
            error = error_for_status(resp.command_status, "submit_sm rejected")
            if isinstance(error, PermanentSmsError):
                raise error
            log.warning("%s (attempt %d)", error, attempt + 1)
        raise error

    async def close(self) -> None:
        """Unbind and stop; pending receipts stay on `receipts`."""
        async with self._lock:
            client, smsc, reader = self._client, self._smsc, self._reader
            self._client = self._smsc = self._reader = None
        if smsc is not None:
            with contextlib.suppress(Exception):  # best effort: the peer may be gone already
                await smsc.unbind()
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()
