"""The project's virtual KTP-el chip: a vpcd client that answers APDUs like the real card.

Run one per virtual reader slot::

    python -m services.card_production.hardware.vchip --port 35963 --state-dir DIR

It connects to vpcd (the virtual reader driver inside pcscd) on ``--port`` and keeps the card
in ``DIR/card.json``, so a card survives removal and restarts. ``DIR/control.sock`` takes one
line commands (also from the command line with ``--ctl``)::

    insert-blank | insert-foreign | insert | remove | status
    fault pull-after N | fault fail-after N | fault clear

``insert-blank`` puts a fresh blank card in the slot, ``insert-foreign`` a card without the
KTP-el application, ``remove``/``insert`` take the current card out and back. Faults count
UPDATE BINARY commands from when they are set: ``pull-after N`` pulls the card out instead
of executing write N+1, ``fail-after N`` answers 6581 (memory failure) from write N+1 on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.card_production.hardware import ktpel
from services.card_production.hardware.ktpel import EF, Activation

log = logging.getLogger("vchip")

# vpcd control messages (one byte); anything longer is an APDU.
VPCD_POWER_OFF = 0x00
VPCD_POWER_ON = 0x01
VPCD_RESET = 0x02
VPCD_GET_ATR = 0x04

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
        if grown > size or self.used() - len(content) + grown > ktpel.CAPACITY:
            return _sw(ktpel.SW_NO_MEMORY)
        self.faults.writes += 1
        pull, fail = self.faults.pull_after_writes, self.faults.fail_after_writes
        if pull is not None and self.faults.writes > pull:
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


# --- the slot: card file, vpcd connection, control socket -----------------------------------


_SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with the terminating NUL


def control_path(state_dir: Path) -> Path:
    """The control socket: in the state dir, or, when that path is too long for a Unix
    socket (deep temp or run folders), under /tmp with a name derived from the state dir."""
    path = state_dir / "control.sock"
    if len(os.fsencode(path.absolute())) <= _SUN_PATH_MAX:
        return path
    digest = hashlib.sha256(os.fsencode(state_dir.absolute())).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tuntas-vchip-{digest}.sock"


class Slot:
    """One virtual reader slot: holds at most one card and connects it to vpcd."""

    def __init__(self, state_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.state_dir, self.port, self.host = state_dir, port, host
        self.card_file = state_dir / "card.json"
        self.faults = Faults()
        self.inserted = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self.connected = False
        self._released = asyncio.Event()  # set while no vpcd connection holds the card
        self._released.set()

    def _save(self, state: CardState) -> None:
        tmp = self.card_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json()))
        os.replace(tmp, self.card_file)  # atomic: a pulled card never leaves half a file

    def _load(self) -> CardState:
        if not self.card_file.exists():
            self._save(CardState())
        return CardState.from_json(json.loads(self.card_file.read_text()))

    async def run(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ctl = control_path(self.state_dir)
        ctl.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(self._control, path=str(ctl))
        self._load()
        self.inserted.set()
        async with server:
            while True:
                await self.inserted.wait()
                try:
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                except OSError:
                    await asyncio.sleep(0.2)  # vpcd not listening yet (pcscd starting)
                    continue
                await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        chip = VirtualChip(self._load(), self._save, self.faults)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._writer, self.connected = writer, True
        self._released.clear()
        log.info("card (%s) in reader on port %d", chip.state.kind, self.port)
        try:
            while True:
                # vpcd sends length and body in two writes: acknowledging at once keeps its
                # Nagle from holding the body for our delayed ACK (~40 ms per APDU).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                size = int.from_bytes(await reader.readexactly(2), "big")
                msg = await reader.readexactly(size)
                if size == 1:
                    if msg[0] == VPCD_GET_ATR:
                        await self._send(writer, chip.atr)
                    elif msg[0] == VPCD_POWER_OFF:
                        chip.power_off()
                    elif msg[0] in (VPCD_POWER_ON, VPCD_RESET):
                        chip.reset()
                    continue
                try:
                    answer = chip.apdu(msg)
                except CardPulled:
                    log.info("card pulled out (fault)")
                    self.inserted.clear()
                    return
                await self._send(writer, answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # vpcd went away or the card was removed by a control command
        finally:
            self._writer, self.connected = None, False
            self._released.set()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, payload: bytes) -> None:
        writer.write(len(payload).to_bytes(2, "big") + payload)
        await writer.drain()

    async def _remove(self) -> None:
        self.inserted.clear()
        if self._writer is not None:
            self._writer.close()
        await self._released.wait()

    async def command(self, line: str) -> dict[str, Any]:
        words = line.split()
        match words:
            case ["insert-blank"] | ["insert-foreign"]:
                await self._remove()
                kind = KIND_KTPEL if words[0] == "insert-blank" else KIND_FOREIGN
                self._save(CardState(kind=kind))
                self.faults.writes = 0
                self.inserted.set()
            case ["insert"]:
                self.inserted.set()
            case ["remove"]:
                await self._remove()
            case ["fault", "pull-after", n]:
                self.faults.pull_after_writes, self.faults.writes = int(n), 0
            case ["fault", "fail-after", n]:
                self.faults.fail_after_writes, self.faults.writes = int(n), 0
            case ["fault", "clear"]:
                self.faults.pull_after_writes = self.faults.fail_after_writes = None
            case ["status"]:
                pass
            case _:
                return {"ok": False, "error": f"unknown command: {line!r}"}
        return {"ok": True, "inserted": self.inserted.is_set(), "connected": self.connected}

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await reader.readline()).decode().strip()
            writer.write(json.dumps(await self.command(line)).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()


class VChipControl:
    """Client of a running vchip's control socket (blocking; each call is a short exchange)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = control_path(state_dir)

    def send(self, line: str) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.path))
            sock.sendall(line.encode() + b"\n")
            reply: dict[str, Any] = json.loads(sock.makefile().readline())
        if not reply.get("ok"):
            raise RuntimeError(f"vchip: {reply.get('error')}")
        return reply

    def insert_blank(self) -> None:
        self.send("insert-blank")

    def insert_foreign(self) -> None:
        self.send("insert-foreign")

    def insert(self) -> None:
        self.send("insert")

    def remove(self) -> None:
        self.send("remove")

    def pull_after(self, writes: int) -> None:
        self.send(f"fault pull-after {writes}")

    def fail_after(self, writes: int) -> None:
        self.send(f"fault fail-after {writes}")

    def clear_faults(self) -> None:
        self.send("fault clear")

    def status(self) -> dict[str, Any]:
        return self.send("status")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vchip", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=35963, help="vpcd port of the reader slot")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ctl", help="send a control command to the running chip and exit")
    args = parser.parse_args(argv)
    if args.ctl:
        print(json.dumps(VChipControl(args.state_dir).send(args.ctl)))
        return
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="vchip: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Slot(args.state_dir, args.port, args.host).run())


if __name__ == "__main__":
    main()
