"""One reader slot of the station: the printer's card hopper and the chip in the contact station.

The chip reaches pcscd the way a card reaches a reader, through vpcd (a TCP connection to the
slot's vpcd port: the card is "in" while it is connected). The hopper listens on a socket for
the line protocol of docs/card-station.md. Every card's EEPROM is kept in
``STATE_DIR/cards/<serial>.json``: ejected cards stay there (the output tray), so one can be
put back for activation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any

from simulators.vchip.address import tcp
from simulators.vchip.chip import KIND_FOREIGN, CardPulled, CardState, Faults, VirtualChip

log = logging.getLogger("vchip")

# vpcd control messages (one byte); anything longer is an APDU.
VPCD_POWER_OFF = 0x00
VPCD_POWER_ON = 0x01
VPCD_RESET = 0x02
VPCD_GET_ATR = 0x04

SERIAL = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
FOREIGN = "foreign"  # the label of the non-KTP-el card insert-foreign puts in


class Refused(Exception):
    """A hopper command that cannot be carried out (answered ``ok: false``)."""


class Slot:
    def __init__(self, state_dir: Path, vpcd_port: int, hopper: str, host: str = "127.0.0.1"):
        self.state_dir, self.vpcd_port, self.hopper, self.host = state_dir, vpcd_port, hopper, host
        self.cards = state_dir / "cards"
        self.current: str | None = None  # the card at the contact station (even if pulled)
        self.faults = Faults()
        self.inserted = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self.connected = False
        self._released = asyncio.Event()  # set while no vpcd connection holds the card
        self._released.set()

    def _file(self, serial: str) -> Path:
        return self.cards / f"{serial}.json"

    def _save(self, serial: str, state: CardState) -> None:
        tmp = self._file(serial).with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json()))
        os.replace(tmp, self._file(serial))  # atomic: a pulled card never leaves half a file

    def _seat(self, serial: str) -> None:
        self.current = serial
        (self.state_dir / "current").write_text(serial)
        self.inserted.set()

    async def run(self) -> None:
        self.cards.mkdir(parents=True, exist_ok=True)
        where = tcp(self.hopper)
        if where is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.hopper)  # left by a slot that did not stop cleanly
            server = await asyncio.start_unix_server(self._control, path=self.hopper)
        else:
            server = await asyncio.start_server(self._control, *where)
        last = self.state_dir / "current"
        if last.exists() and self._file(last.read_text()).exists():  # survives a restart
            self._seat(last.read_text())
        async with server:
            while True:
                await self.inserted.wait()
                try:
                    reader, writer = await asyncio.open_connection(self.host, self.vpcd_port)
                except OSError:
                    await asyncio.sleep(0.2)  # vpcd not listening yet (pcscd starting)
                    continue
                await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serial = self.current
        assert serial is not None
        state = CardState.from_json(json.loads(self._file(serial).read_text()))
        chip = VirtualChip(state, lambda s: self._save(serial, s), self.faults)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._writer, self.connected = writer, True
        self._released.clear()
        log.info("card %s (%s) in the reader on port %d", serial, state.kind, self.vpcd_port)
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
                    log.info("card %s pulled out (fault)", serial)
                    self.inserted.clear()
                    return
                await self._send(writer, answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # vpcd went away or the card was taken out by a hopper command
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

    async def _take_out(self) -> None:
        self.inserted.clear()
        if self._writer is not None:
            self._writer.close()
        await self._released.wait()

    async def _fresh(self, serial: str, kind: str | None = None) -> None:
        await self.eject()
        self._save(serial, CardState() if kind is None else CardState(kind=kind))
        self.faults.writes = 0
        self._seat(serial)

    async def eject(self) -> None:
        """The card leaves the contact station for the output tray (its file stays)."""
        await self._take_out()
        self.current = None
        (self.state_dir / "current").unlink(missing_ok=True)

    async def command(self, line: str) -> dict[str, Any]:
        match line.split():
            case ["insert-blank", serial] if SERIAL.match(serial):
                await self._fresh(serial)
            case ["insert", serial] if SERIAL.match(serial):
                if not self._file(serial).exists():
                    raise Refused(f"no card {serial} in the output tray")
                if self.current != serial or not self.inserted.is_set():
                    await self.eject()
                    self._seat(serial)
            case ["eject"]:
                await self.eject()
            case ["status"]:
                pass
            # The simulator's own test commands (no real hopper has them).
            case ["insert-foreign"]:
                await self._fresh(FOREIGN, KIND_FOREIGN)
            case ["reseat"]:  # the pulled card goes back in
                if self.current is None:
                    raise Refused("no card to put back")
                self.inserted.set()
            case ["fault", "pull-after", n]:
                self.faults.pull_after_writes, self.faults.writes = int(n), 0
            case ["fault", "fail-after", n]:
                self.faults.fail_after_writes, self.faults.writes = int(n), 0
            case ["fault", "clear"]:
                self.faults.pull_after_writes = self.faults.fail_after_writes = None
            case _:
                raise Refused(f"unknown command: {line!r}")
        seated = self.current if self.inserted.is_set() else None
        return {"ok": True, "card": seated, "connected": self.connected}

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await reader.readline()).decode().strip()
            try:
                reply = await self.command(line)
            except (Refused, ValueError) as exc:
                reply = {"ok": False, "error": str(exc)}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()
