"""The station's hardware seen by the service: encoder, printer and blank feeder.

``Pcsc*``/``Cups*`` drive the real devices through ``hardware/`` (PC/SC via pcscd, CUPS);
``Simulated*`` are zero-delay in-process stand-ins for the benchmark only
(``TUNTAS_CARD_PRODUCTION_HARDWARE=simulated``). A *feeder* gets a blank into the reader: an
operator (``ManualFeeder``), or the project's virtual chip standing in for a printer's hopper
(``VChipFeeder``).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cups

from services.card_production.hardware import encoder, ktpel, printer
from services.card_production.hardware.encoder import ChipData, EncodeResult
from services.card_production.hardware.ktpel import Activation
from services.card_production.hardware.printer import QueueStatus
from services.card_production.hardware.vchip import VChipControl

log = logging.getLogger("tuntas.card_production")


class FeedTimeout(Exception):
    """No blank (or not the wanted card) reached the reader in time."""


class Encoder(Protocol):
    reader: str

    async def present(self) -> bool: ...
    async def activation(self) -> Activation: ...
    async def encode(self, data: ChipData) -> EncodeResult: ...
    async def read_fingerprints(self, pin: str) -> tuple[bytes, bytes]: ...
    async def activate(self, current_pin: str, new_pin: str) -> None: ...


class Printer(Protocol):
    queue: str

    async def status(self) -> QueueStatus: ...
    async def print_pdf(self, pdf: bytes, title: str, timeout_s: float) -> int: ...
    async def cancel(self, job_id: int) -> None: ...


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

    encoder: Encoder
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
class VChipFeeder:
    """The virtual chip as the printer's hopper: a fresh blank per job; produced cards are
    kept (their EEPROM file archived) so one can be put back for activation."""

    encoder: Encoder
    state_dir: Path
    timeout_s: float = 20.0
    current: str | None = None
    _control: VChipControl = field(init=False)

    def __post_init__(self) -> None:
        self._control = VChipControl(self.state_dir)
        (self.state_dir / "archive").mkdir(parents=True, exist_ok=True)

    def _archived(self, serial: str) -> Path:
        return self.state_dir / "archive" / f"{serial}.json"

    async def _remove(self) -> None:
        if self.current is not None and (self.state_dir / "card.json").exists():
            shutil.copyfile(self.state_dir / "card.json", self._archived(self.current))
        await asyncio.to_thread(self._control.remove)

        async def gone() -> bool:
            return not await self.encoder.present()

        await _until(gone, self.timeout_s, "card out of the reader")
        self.current = None

    async def _answers(self) -> bool:
        await self.encoder.activation()
        return True

    async def load_blank(self, serial: str) -> None:
        await self._remove()
        await asyncio.to_thread(self._control.insert_blank)
        self.current = serial
        await _until(self._answers, self.timeout_s, f"blank {serial} answering")

    async def present(self, serial: str) -> None:
        if self.current == serial:
            return
        archived = self._archived(serial)
        if not archived.exists():
            raise FeedTimeout(f"card {serial} is not in the virtual hopper's archive")
        await self._remove()
        shutil.copyfile(archived, self.state_dir / "card.json")
        await asyncio.to_thread(self._control.insert)
        self.current = serial
        await _until(self._answers, self.timeout_s, f"card {serial} answering")


# ---------------------------------------------------------------- simulated (benchmark only)


@dataclass
class _SimCard:
    data: ChipData | None = None
    state: Activation = Activation.BLANK
    pin: str = ktpel.TRANSPORT_PIN


@dataclass
class SimulatedEncoder:
    """SIMULATED encoder: in memory, zero delay. Not a hardware path."""

    reader: str = "simulated"
    cards: dict[str, _SimCard] = field(default_factory=dict)
    current: str | None = None

    def _card(self) -> _SimCard:
        if self.current is None:
            raise encoder.CardRemoved("no simulated card")
        return self.cards.setdefault(self.current, _SimCard())

    async def present(self) -> bool:
        return self.current is not None

    async def activation(self) -> Activation:
        return self._card().state

    async def encode(self, data: ChipData) -> EncodeResult:
        card = self._card()
        if card.state is not Activation.BLANK:
            raise encoder.WrongCard("simulated card is not blank")
        card.data, card.state = data, Activation.ENCODED
        return EncodeResult(self.reader, "3B00", {})

    async def read_fingerprints(self, pin: str) -> tuple[bytes, bytes]:
        card = self._card()
        if card.data is None:
            raise encoder.EncoderError("simulated card is blank")
        if pin != card.pin:
            raise encoder.WrongPin(2)
        return card.data.finger_1, card.data.finger_2

    async def activate(self, current_pin: str, new_pin: str) -> None:
        card = self._card()
        if card.state is not Activation.ENCODED:
            raise encoder.WrongCard("only an encoded card can be activated")
        if current_pin != card.pin:
            raise encoder.WrongPin(2)
        card.pin, card.state = new_pin, Activation.ACTIVATED


@dataclass
class SimulatedFeeder:
    encoder: SimulatedEncoder

    async def load_blank(self, serial: str) -> None:
        self.encoder.current = serial
        self.encoder.cards[serial] = _SimCard()

    async def present(self, serial: str) -> None:
        self.encoder.current = serial


@dataclass
class SimulatedPrinter:
    """SIMULATED printer: always ready, zero delay; keeps the last PDF for inspection."""

    queue: str = "simulated"
    jobs: int = 0
    last_pdf: bytes = b""

    async def status(self) -> QueueStatus:
        return QueueStatus(self.queue, True, 3, True, "simulated")

    async def print_pdf(self, pdf: bytes, title: str, timeout_s: float) -> int:
        self.jobs += 1
        self.last_pdf = pdf
        return self.jobs

    async def cancel(self, job_id: int) -> None:
        return None


@dataclass
class Devices:
    encoder: Encoder
    printer: Printer
    feeder: Feeder
    simulated: bool = False


def build_devices(
    hardware: str, reader: str, queue: str, feeder: str, feed_timeout_s: float
) -> Devices:
    if hardware == "simulated":
        sim = SimulatedEncoder()
        return Devices(sim, SimulatedPrinter(), SimulatedFeeder(sim), simulated=True)
    enc = PcscEncoder(reader)
    feed: Feeder
    if feeder.startswith("vchip:"):
        feed = VChipFeeder(enc, Path(feeder.removeprefix("vchip:")))
    elif feeder == "manual":
        feed = ManualFeeder(enc, feed_timeout_s)
    else:
        raise ValueError(f"unknown feeder {feeder!r}: 'manual' or 'vchip:<state dir>'")
    return Devices(enc, CupsPrinter(queue), feed)
