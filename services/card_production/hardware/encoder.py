"""The card encoder: writes and verifies a KTP-el chip through PC/SC (pyscard, pcscd).

Every public function is async and runs its blocking pyscard calls in a worker thread; each
call opens its own connection to the named reader and closes it, so the PIN state of one
call never leaks into the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from smartcard import scard
from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.System import readers

from schemas import ktpel
from schemas.ktpel import EF, Activation

REMOVAL_SETTLE_S = 2.0  # pcscd notices a vanished card on its next presence poll


class EncoderError(Exception):
    """Any failure of the encoder; the subclasses say what the station should do."""


class ReaderUnavailable(EncoderError):
    """pcscd does not answer or does not list the reader: check the station's hardware."""


class CardRemoved(EncoderError):
    """No card in the reader, or it was pulled out during the operation."""


class WrongCard(EncoderError):
    """The card is not a blank KTP-el (another application, or already encoded)."""


class WriteFailed(EncoderError):
    """The chip refused a write, or what it reads back differs: the card is spoiled."""


class WrongPin(EncoderError):
    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN: {tries_left} tries left")
        self.tries_left = tries_left


class PinBlocked(EncoderError):
    """No PIN tries left."""


@dataclass(frozen=True)
class ChipData:
    """What goes on the chip; the service maps its records into this."""

    nik: str
    biodata: bytes  # the service's serialisation of the printed fields (e.g. UTF-8 JSON)
    photo: bytes  # JPEG
    signature: bytes  # PNG or JPEG
    finger_1: bytes  # ISO/IEC 19794-2 minutiae templates
    finger_2: bytes

    def files(self) -> dict[EF, bytes]:
        return {
            EF.NIK: self.nik.encode("ascii"),
            EF.BIODATA: self.biodata,
            EF.PHOTO: self.photo,
            EF.SIGNATURE: self.signature,
            EF.FINGER_1: self.finger_1,
            EF.FINGER_2: self.finger_2,
        }


@dataclass(frozen=True)
class EncodeResult:
    reader: str
    atr: str  # hex
    sha256: dict[str, str]  # EF name -> digest of the value written and read back


def _find_reader(name: str) -> Any:
    try:
        found = [r for r in readers() if str(r) == name]
    except (SmartcardException, BaseSCardException) as exc:
        raise ReaderUnavailable(f"pcscd does not answer: {exc}") from None
    if not found:
        raise ReaderUnavailable(f"reader {name!r} is not connected")
    return found[0]


def _card_state(name: str) -> int:
    """The reader's SCARD_STATE_* bits now (0 when pcscd cannot tell)."""
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return 0
    try:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(name, scard.SCARD_STATE_UNAWARE)])
        return int(states[0][1]) if hresult == scard.SCARD_S_SUCCESS else 0
    finally:
        scard.SCardReleaseContext(ctx)


def _gone(name: str) -> bool:
    """True if the card is out of the reader, waiting up to REMOVAL_SETTLE_S for pcscd to see it."""
    deadline = time.monotonic() + REMOVAL_SETTLE_S
    while time.monotonic() < deadline:
        if _card_state(name) & scard.SCARD_STATE_EMPTY:
            return True
        time.sleep(0.05)
    return False


class _Card:
    """One connection to the card in a reader, speaking the KTP-el profile."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self._conn = _find_reader(reader).createConnection()
        try:
            self._conn.connect()
        except (NoCardException, CardConnectionException):
            raise CardRemoved(f"no card in {reader!r}") from None
        self.atr = bytes(self._conn.getATR()).hex()

    def __enter__(self) -> _Card:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(SmartcardException):
            self._conn.disconnect()

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        try:
            data, sw1, sw2 = self._conn.transmit(list(apdu))
        except CardConnectionException as exc:
            if _gone(self.reader):
                raise CardRemoved(f"card pulled out of {self.reader!r}") from None
            raise EncoderError(f"transmit failed on {self.reader!r}: {exc}") from None
        return bytes(data), sw1 << 8 | sw2

    def select_app(self) -> None:
        apdu = bytes([0x00, ktpel.INS_SELECT, 0x04, 0x00, len(ktpel.AID)]) + ktpel.AID
        _, sw = self.transmit(apdu)
        if sw != ktpel.SW_OK:
            raise WrongCard(f"no KTP-el application on the card (ATR {self.atr}, SW {sw:04X})")

    def select(self, ef: EF) -> None:
        _, sw = self.transmit(
            bytes([0x00, ktpel.INS_SELECT, 0x02, 0x0C, 2]) + ef.to_bytes(2, "big")
        )
        if sw != ktpel.SW_OK:
            raise WrongCard(f"KTP-el file {ef.name} missing (SW {sw:04X})")

    def write(self, ef: EF, content: bytes) -> None:
        self.select(ef)
        for offset in range(0, len(content), ktpel.MAX_LC):
            chunk = content[offset : offset + ktpel.MAX_LC]
            head = bytes([0x00, ktpel.INS_UPDATE_BINARY, offset >> 8, offset & 0xFF, len(chunk)])
            _, sw = self.transmit(head + chunk)
            if sw != ktpel.SW_OK:
                raise WriteFailed(f"UPDATE BINARY {ef.name} at {offset} answered {sw:04X}")

    def read(self, ef: EF, length: int, offset: int = 0) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer at the end of the file)."""
        out = b""
        while len(out) < length:
            le = min(ktpel.MAX_LE, length - len(out))
            at = offset + len(out)
            apdu = bytes([0x00, ktpel.INS_READ_BINARY, at >> 8, at & 0xFF, le & 0xFF])
            data, sw = self.transmit(apdu)
            if sw == ktpel.SW_SECURITY:
                raise EncoderError(f"reading {ef.name} needs the PIN")
            if sw not in (ktpel.SW_OK, ktpel.SW_EOF):
                raise EncoderError(f"READ BINARY {ef.name} at {at} answered {sw:04X}")
            out += data
            if sw == ktpel.SW_EOF or not data:
                break
        return out

    def read_value(self, ef: EF) -> bytes:
        """The value of the TLV in a data EF."""
        self.select(ef)
        head = self.read(ef, 4)
        try:
            header, length = ktpel.tlv_header(head)
        except ValueError as exc:
            raise EncoderError(f"{ef.name}: {exc}") from None
        return (head + self.read(ef, header + length - len(head), len(head)))[header:]

    def activation(self) -> Activation:
        self.select(EF.ACTIVATION)
        raw = self.read(EF.ACTIVATION, 1)
        return Activation(raw[0]) if raw else Activation.BLANK

    def set_activation(self, state: Activation) -> None:
        self.write(EF.ACTIVATION, bytes([state]))

    def verify(self, pin: str) -> None:
        self._pin_answer(self.transmit(self._pin_apdu(ktpel.INS_VERIFY, pin))[1])

    def change_pin(self, old: str, new: str) -> None:
        apdu = self._pin_apdu(ktpel.INS_CHANGE_REFERENCE_DATA, old + new)
        self._pin_answer(self.transmit(apdu)[1])

    def tries_left(self) -> int:
        _, sw = self.transmit(bytes([0x00, ktpel.INS_VERIFY, 0x00, ktpel.PIN_REF]))
        if sw == ktpel.SW_BLOCKED:
            return 0
        return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else ktpel.PIN_TRIES

    @staticmethod
    def _pin_apdu(ins: int, digits: str) -> bytes:
        return bytes([0x00, ins, 0x00, ktpel.PIN_REF, len(digits)]) + digits.encode("ascii")

    @staticmethod
    def _pin_answer(sw: int) -> None:
        if sw == ktpel.SW_BLOCKED:
            raise PinBlocked("PIN blocked: no tries left")
        if sw & 0xFFF0 == 0x63C0:
            raise WrongPin(sw & 0x0F)
        if sw != ktpel.SW_OK:
            raise EncoderError(f"PIN command answered {sw:04X}")


def _check_pin(pin: str) -> None:
    if len(pin) != ktpel.PIN_LENGTH or not pin.isdigit():
        raise ValueError(f"a PIN is {ktpel.PIN_LENGTH} digits")


def _encode(reader: str, data: ChipData) -> EncodeResult:
    files = data.files()
    with _Card(reader) as card:
        card.select_app()
        state = card.activation()
        if state is not Activation.BLANK:
            raise WrongCard(f"card is {state.name.lower()}, not blank")
        card.verify(ktpel.TRANSPORT_PIN)  # the fingerprint files are read back under the PIN
        for ef, value in files.items():
            card.write(ef, ktpel.tlv(value))
        digests: dict[str, str] = {}
        for ef, value in files.items():
            wanted = hashlib.sha256(value).hexdigest()
            got = hashlib.sha256(card.read_value(ef)).hexdigest()
            if got != wanted:
                raise WriteFailed(f"{ef.name} reads back different from what was written")
            digests[ef.name] = got
        # Last, so a card that failed anywhere above is still a blank to retry or discard.
        card.set_activation(Activation.ENCODED)
        return EncodeResult(reader, card.atr, digests)


def _read_activation(reader: str) -> Activation:
    with _Card(reader) as card:
        card.select_app()
        return card.activation()


def _read_fingerprints(reader: str, pin: str) -> tuple[bytes, bytes]:
    with _Card(reader) as card:
        card.select_app()
        card.verify(pin)
        return card.read_value(EF.FINGER_1), card.read_value(EF.FINGER_2)


def _activate(reader: str, current_pin: str, new_pin: str) -> None:
    _check_pin(new_pin)
    with _Card(reader) as card:
        card.select_app()
        if card.activation() is not Activation.ENCODED:
            raise WrongCard("only an encoded, not yet activated card can be activated")
        card.verify(current_pin)
        card.change_pin(current_pin, new_pin)
        card.set_activation(Activation.ACTIVATED)


def _read_for_activation(reader: str, new_pin: str) -> tuple[tuple[bytes, bytes], bool]:
    """The fingerprints to match the holder with, and whether the chip still has the transport
    PIN. An activation cut short (the station killed after the chip took the holder's PIN,
    before the station recorded it) leaves ``new_pin`` on the chip: the same request sent again
    opens it with that PIN. Trying only the transport PIN would spend its tries on every retry
    until the card blocked (found by the chaos day)."""
    _check_pin(new_pin)
    with _Card(reader) as card:
        card.select_app()
        transport = ktpel.TRANSPORT_PIN
        done = card.activation() is Activation.ACTIVATED
        first, then = (new_pin, transport) if done else (transport, new_pin)
        try:
            card.verify(first)
            opened = first
        except WrongPin:
            card.verify(then)  # a success resets the tries the first one spent
            opened = then
        return (card.read_value(EF.FINGER_1), card.read_value(EF.FINGER_2)), opened == transport


def _finish_activation(reader: str, new_pin: str) -> None:
    """The chip already has ``new_pin``: mark it ACTIVATED if the cut attempt did not."""
    with _Card(reader) as card:
        card.select_app()
        if card.activation() is Activation.ACTIVATED:
            return
        card.verify(new_pin)
        card.set_activation(Activation.ACTIVATED)


def _tries_left(reader: str) -> int:
    with _Card(reader) as card:
        card.select_app()
        return card.tries_left()


def _card_present(reader: str) -> bool:
    _find_reader(reader)
    return bool(_card_state(reader) & scard.SCARD_STATE_PRESENT)


async def card_present(reader: str) -> bool:
    """True when a card sits in the reader (ReaderUnavailable if the reader is not there)."""
    return await asyncio.to_thread(_card_present, reader)


async def encode(reader: str, data: ChipData) -> EncodeResult:
    """Write all data files to the blank card, read them back, then mark it ENCODED."""
    return await asyncio.to_thread(_encode, reader, data)


async def read_activation(reader: str) -> Activation:
    return await asyncio.to_thread(_read_activation, reader)


async def read_fingerprints(reader: str, pin: str) -> tuple[bytes, bytes]:
    """The two fingerprint templates (they are behind the PIN), to match the holder's finger."""
    return await asyncio.to_thread(_read_fingerprints, reader, pin)


async def read_for_activation(reader: str, new_pin: str) -> tuple[tuple[bytes, bytes], bool]:
    """(fingerprints, still on the transport PIN): see :func:`_read_for_activation`."""
    return await asyncio.to_thread(_read_for_activation, reader, new_pin)


async def finish_activation(reader: str, new_pin: str) -> None:
    await asyncio.to_thread(_finish_activation, reader, new_pin)


async def activate(reader: str, *, current_pin: str, new_pin: str) -> None:
    """Replace the transport PIN by the holder's and mark the card ACTIVATED (read-only data)."""
    await asyncio.to_thread(_activate, reader, current_pin, new_pin)


async def pin_tries_left(reader: str) -> int:
    return await asyncio.to_thread(_tries_left, reader)
