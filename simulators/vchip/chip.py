"""The virtual KTP-el chip itself: APDU in, R-APDU out, EEPROM kept as JSON. No I/O."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemas import ktpel
from schemas.ktpel import EF, Activation

CAPACITY = 20480  # EEPROM for file contents: less than the sum of the profile's maxima

KIND_KTPEL = "ktpel"
KIND_FOREIGN = "foreign"


def _atr(historical: bytes) -> bytes:
    # TS=3B (direct), T0 announces TD1 and the historical bytes, TD1/TD2: T=0 then T=1;
    # TCK (xor of T0..last) is required once T=1 is offered.
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])


ATR_KTPEL = _atr(b"\x80KTPEL-ID")
ATR_FOREIGN = _atr(b"\x80EMV-BANK")


class CardPulled(Exception):
    """The simulated holder pulled the card out: the transport must drop the connection."""


@dataclass
class CardState:
    """What the card's EEPROM holds: survives power cycles and removal."""

    kind: str = KIND_KTPEL
    files: dict[EF, bytearray] = field(default_factory=dict)
    pin: str = ktpel.TRANSPORT_PIN
    tries_left: int = ktpel.PIN_TRIES

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "files": {f"{ef.value:04X}": data.hex() for ef, data in self.files.items()},
            "pin": self.pin,
            "tries_left": self.tries_left,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CardState:
        files = {EF(int(k, 16)): bytearray.fromhex(v) for k, v in raw["files"].items()}
        return cls(raw["kind"], files, raw["pin"], int(raw["tries_left"]))


@dataclass
class Faults:
    """Armed by the simulator's control commands; writes counted from when armed."""

    pull_after_writes: int | None = None
    fail_after_writes: int | None = None
    writes: int = 0


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


class _BadLength(Exception):
    pass


def _parse(cmd: bytes) -> tuple[int, int, int, int, bytes, int | None]:
    """(cla, ins, p1, p2, data, le) of a short APDU; le None when absent, 0 means 256."""
    if len(cmd) < 4:
        raise _BadLength
    cla, ins, p1, p2 = cmd[:4]
    if len(cmd) == 4:
        return cla, ins, p1, p2, b"", None
    if len(cmd) == 5:
        return cla, ins, p1, p2, b"", cmd[4] or ktpel.MAX_LE
    lc = cmd[4]
    if lc == 0:  # extended length: not supported by this chip
        raise _BadLength
    if len(cmd) == 5 + lc:
        return cla, ins, p1, p2, cmd[5:], None
    if len(cmd) == 6 + lc:
        return cla, ins, p1, p2, cmd[5:-1], cmd[-1] or ktpel.MAX_LE
    raise _BadLength


class VirtualChip:
    """The card: APDU in, R-APDU out. No I/O; ``on_change`` persists the EEPROM."""

    def __init__(
        self,
        state: CardState,
        on_change: Callable[[CardState], None] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.state = state
        self.faults = faults or Faults()
        self._on_change = on_change
        self.power_on()

    @property
    def atr(self) -> bytes:
        return ATR_KTPEL if self.state.kind == KIND_KTPEL else ATR_FOREIGN

    @property
    def activation(self) -> Activation:
        raw = self.state.files.get(EF.ACTIVATION)
        return Activation(raw[0]) if raw else Activation.BLANK

    def used(self) -> int:
        return sum(len(data) for data in self.state.files.values())

    def power_on(self) -> None:
        # Security state and file selection are volatile: lost on power off and reset.
        self._app_selected = False
        self._current: EF | None = None
        self._pin_verified = False

    power_off = reset = power_on

    def apdu(self, cmd: bytes) -> bytes:
        try:
            cla, ins, p1, p2, data, le = _parse(cmd)
        except _BadLength:
            return _sw(ktpel.SW_WRONG_LENGTH)
        if cla != 0x00:
            return _sw(ktpel.SW_UNKNOWN_CLA)
        if ins == ktpel.INS_SELECT:
            return self._select(p1, data)
        if ins == ktpel.INS_READ_BINARY:
            return self._read(p1, p2, le)
        if ins == ktpel.INS_UPDATE_BINARY:
            return self._update(p1, p2, data)
        if ins == ktpel.INS_VERIFY:
            return self._verify(p1, p2, data)
        if ins == ktpel.INS_CHANGE_REFERENCE_DATA:
            return self._change_pin(p1, p2, data)
        return _sw(ktpel.SW_UNKNOWN_INS)

    def _select(self, p1: int, data: bytes) -> bytes:
        if p1 == 0x04:  # by DF name (AID)
            if self.state.kind != KIND_KTPEL or data != ktpel.AID:
                return _sw(ktpel.SW_NOT_FOUND)
            self._app_selected, self._current = True, None
            return _sw(ktpel.SW_OK)
        if p1 in (0x00, 0x02):  # by file id
            if len(data) != 2:
                return _sw(ktpel.SW_WRONG_LENGTH)
            fid = int.from_bytes(data, "big")
            if not self._app_selected or fid not in EF._value2member_map_:
                return _sw(ktpel.SW_NOT_FOUND)
            self._current = EF(fid)
            return _sw(ktpel.SW_OK)
        return _sw(ktpel.SW_WRONG_P1P2)

    def _read(self, p1: int, p2: int, le: int | None) -> bytes:
        if p1 & 0x80:  # short-EF-id addressing is not supported
            return _sw(ktpel.SW_WRONG_P1P2)
        if self._current is None:
            return _sw(ktpel.SW_NO_CURRENT_EF)
        if le is None:
            return _sw(ktpel.SW_WRONG_LENGTH)
        if self._current in ktpel.FINGER_EFS and not self._pin_verified:
            return _sw(ktpel.SW_SECURITY)
        content = self.state.files.get(self._current, bytearray())
        offset = p1 << 8 | p2
        if offset > len(content):
            return _sw(ktpel.SW_WRONG_OFFSET)
        chunk = bytes(content[offset : offset + le])
        return _sw(ktpel.SW_EOF if len(chunk) < le else ktpel.SW_OK, chunk)

    def _update(self, p1: int, p2: int, data: bytes) -> bytes:
        if p1 & 0x80:
            return _sw(ktpel.SW_WRONG_P1P2)
        ef = self._current
        if ef is None:
            return _sw(ktpel.SW_NO_CURRENT_EF)
        if not data:
            return _sw(ktpel.SW_WRONG_LENGTH)
        if ef is EF.ACTIVATION:
            if self.activation is not Activation.BLANK and not self._pin_verified:
                return _sw(ktpel.SW_SECURITY)
            if len(data) != 1 or data[0] not in Activation._value2member_map_:
                return _sw(ktpel.SW_WRONG_DATA)
        elif self.activation is Activation.ACTIVATED:
            return _sw(ktpel.SW_SECURITY)
        offset = p1 << 8 | p2
        size = ktpel.EF_SIZES[ef]
        if offset > size:
            return _sw(ktpel.SW_WRONG_OFFSET)
        content = self.state.files.get(ef, bytearray())
        grown = max(len(content), offset + len(data))
        if grown > size or self.used() - len(content) + grown > CAPACITY:
            return _sw(ktpel.SW_NO_MEMORY)
        self.faults.writes += 1
        pull, fail = self.faults.pull_after_writes, self.faults.fail_after_writes
        if pull is not None and self.faults.writes > pull:
            self.faults.pull_after_writes = None  # pulled once; the next card is left alone
            raise CardPulled
        if fail is not None and self.faults.writes > fail:
            return _sw(ktpel.SW_MEMORY_FAILURE)
        content.extend(b"\x00" * (grown - len(content)))
        content[offset : offset + len(data)] = data
        self.state.files[ef] = content
        self._changed()
        return _sw(ktpel.SW_OK)

    def _check_pin(self, candidate: bytes) -> bytes | None:
        """None when right; else the status word to answer (the try is counted)."""
        if hmac.compare_digest(candidate, self.state.pin.encode()):
            self.state.tries_left = ktpel.PIN_TRIES
            self._pin_verified = True
            self._changed()
            return None
        self.state.tries_left -= 1
        self._pin_verified = False
        self._changed()
        return _sw(0x63C0 | self.state.tries_left)

    def _verify(self, p1: int, p2: int, data: bytes) -> bytes:
        if (p1, p2) != (0x00, ktpel.PIN_REF):
            return _sw(ktpel.SW_WRONG_P1P2)
        if self.state.tries_left == 0:
            return _sw(ktpel.SW_BLOCKED)
        if not data:  # ask for the retry counter
            if self._pin_verified:
                return _sw(ktpel.SW_OK)
            return _sw(0x63C0 | self.state.tries_left)
        if len(data) != ktpel.PIN_LENGTH:
            return _sw(ktpel.SW_WRONG_LENGTH)
        return self._check_pin(data) or _sw(ktpel.SW_OK)

    def _change_pin(self, p1: int, p2: int, data: bytes) -> bytes:
        if (p1, p2) != (0x00, ktpel.PIN_REF):
            return _sw(ktpel.SW_WRONG_P1P2)
        if self.state.tries_left == 0:
            return _sw(ktpel.SW_BLOCKED)
        if len(data) != 2 * ktpel.PIN_LENGTH:
            return _sw(ktpel.SW_WRONG_LENGTH)
        old, new = data[: ktpel.PIN_LENGTH], data[ktpel.PIN_LENGTH :]
        if not new.isdigit():
            return _sw(ktpel.SW_WRONG_DATA)
        wrong = self._check_pin(old)
        if wrong is not None:
            return wrong
        self.state.pin = new.decode()
        self._changed()
        return _sw(ktpel.SW_OK)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.state)
