"""The station's hardware seen by the service: encoder, printer and card feeder.

The encoder is a PC/SC reader (via pcscd), the printer a CUPS queue. A *feeder* gets a blank
(or, for activation, a produced card) into the encoder's contact station: an operator
(``ManualFeeder``), or the card printer's hopper (``HopperFeeder``, docs/card-station.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import cups

from schemas.ktpel import Activation
from services.card_production.hardware import encoder, printer
from services.card_production.hardware.encoder import ChipData, EncodeResult
from services.card_production.hardware.hopper import Hopper, HopperError
from services.card_production.hardware.printer import QueueStatus

log = logging.getLogger("tuntas.card_production")


class FeedError(Exception):
    """The card did not get into (or out of) the reader: no operator in time, hopper down."""


class FeedTimeout(FeedError):
    """No blank (or not the wanted card) reached the reader in time."""


class Feeder(Protocol):
    async def load_blank(self, serial: str) -> None: ...
    async def present(self, serial: str) -> None: ...


# ---------------------------------------------------------------- real devices


@dataclass
class PcscEncoder:
    reader: str

    async def present(self) -> bool:
        return await encoder.card_present(self.reader)

    async def activation(self) -> Activation:
        return await encoder.read_activation(self.reader)

    async def encode(self, data: ChipData) -> EncodeResult:
        return await encoder.encode(self.reader, data)

    async def read_fingerprints(self, pin: str) -> tuple[bytes, bytes]:
        return await encoder.read_fingerprints(self.reader, pin)

    async def activate(self, current_pin: str, new_pin: str) -> None:
        await encoder.activate(self.reader, current_pin=current_pin, new_pin=new_pin)

    async def read_for_activation(self, new_pin: str) -> tuple[tuple[bytes, bytes], bool]:
        return await encoder.read_for_activation(self.reader, new_pin)

    async def finish_activation(self, new_pin: str) -> None:
        await encoder.finish_activation(self.reader, new_pin)


def _cancel_cups_job(job_id: int) -> None:
    # hardware/printer.py has no cancel: a job held in a stopped queue would otherwise print
    # once the queue is enabled again, after the station printed the card anew.
    try:
        cups.Connection().cancelJob(job_id)
    except (RuntimeError, cups.IPPError) as exc:
        log.warning("could not cancel print job %d: %s", job_id, exc)


@dataclass
class CupsPrinter:
    queue: str

    async def status(self) -> QueueStatus:
        return await printer.queue_status(self.queue)

    async def print_pdf(self, pdf: bytes, title: str, timeout_s: float) -> int:
        return await printer.print_pdf(self.queue, pdf, title=title, timeout_s=timeout_s)

    async def cancel(self, job_id: int) -> None:
        await asyncio.to_thread(_cancel_cups_job, job_id)


async def _until(probe: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            if await probe():
                return
        except encoder.CardRemoved:
            pass
        except encoder.EncoderError as exc:
            if isinstance(exc, encoder.ReaderUnavailable):
                raise
        if time.monotonic() > deadline:
            raise FeedTimeout(f"timed out waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


@dataclass
class ManualFeeder:
    """An operator puts the blank (or, for activation, the applicant's card) in the reader."""

    encoder: PcscEncoder
    timeout_s: float = 600.0

    async def load_blank(self, serial: str) -> None:
        async def blank_in() -> bool:
            return await self.encoder.present() and (
                await self.encoder.activation() is Activation.BLANK
            )

        if not await blank_in():
            log.warning("insert blank %s into reader %s", serial, self.encoder.reader)
        await _until(blank_in, self.timeout_s, f"blank {serial} in {self.encoder.reader}")

    async def present(self, serial: str) -> None:
        await _until(self.encoder.present, self.timeout_s, f"card {serial} in the reader")


@dataclass
class HopperFeeder:
    """The card printer's hopper: a fresh blank per job; it keeps produced cards in its output
    tray, so one can be put back into the contact station for activation."""

    encoder: PcscEncoder
    hopper: Hopper
    timeout_s: float = 20.0

    async def _command(self, line: str) -> None:
        try:
            await self.hopper.command(line)
        except HopperError as exc:
            raise FeedError(str(exc)) from exc

    async def _answers(self) -> bool:
        await self.encoder.activation()
        return True

    async def _eject(self) -> None:
        # Waiting until the reader is empty means no probe after the insert talks to the
        # card before.
        await self._command("eject")

        async def gone() -> bool:
            return not await self.encoder.present()

        await _until(gone, self.timeout_s, "card out of the reader")

    async def load_blank(self, serial: str) -> None:
        await self._eject()
        await self._command(f"insert-blank {serial}")
        await _until(self._answers, self.timeout_s, f"blank {serial} answering")

    async def present(self, serial: str) -> None:
        try:
            seated = await self.hopper.card()
        except HopperError as exc:
            raise FeedError(str(exc)) from exc
        if seated == serial and await self.encoder.present():
            return
        await self._eject()
        await self._command(f"insert {serial}")
        await _until(self._answers, self.timeout_s, f"card {serial} answering")


@dataclass
class Devices:
    encoder: PcscEncoder
    printer: CupsPrinter
    feeder: Feeder


def build_devices(reader: str, queue: str, feeder: str, feed_timeout_s: float) -> Devices:
    """``feeder``: "manual" or "hopper:<address>" (see the station's settings)."""
    enc = PcscEncoder(reader)
    feed: Feeder
    if feeder.startswith("hopper:"):
        feed = HopperFeeder(enc, Hopper(feeder.removeprefix("hopper:")))
    elif feeder == "manual":
        feed = ManualFeeder(enc, feed_timeout_s)
    else:
        raise ValueError(f"unknown feeder {feeder!r}: 'manual' or 'hopper:<address>'")
    return Devices(enc, CupsPrinter(queue), feed)
