"""Client of the card printer's hopper (docs/card-station.md): one command line per
connection over a UNIX socket (an absolute path) or TCP (``host:port``), one JSON line back."""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HopperError(Exception):
    """The hopper is unreachable, did not answer in time, or refused the command."""


def parse_address(address: str) -> tuple[str, int] | str:
    """``host:port`` as (host, port); an absolute path as itself (a UNIX socket)."""
    if address.startswith("/"):
        return address
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"hopper address {address!r}: an absolute socket path or host:port")
    return host or "127.0.0.1", int(port)


class Hopper:
    def __init__(self, address: str, timeout_s: float = 20.0) -> None:
        self.address = address
        self._where = parse_address(address)
        self.timeout_s = timeout_s

    async def command(self, line: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout_s):
                if isinstance(self._where, str):
                    reader, writer = await asyncio.open_unix_connection(self._where)
                else:
                    reader, writer = await asyncio.open_connection(*self._where)
                try:
                    writer.write(line.encode() + b"\n")
                    await writer.drain()
                    raw = await reader.readline()
                finally:
                    writer.close()
        except (OSError, TimeoutError) as exc:
            raise HopperError(f"hopper {self.address}: {type(exc).__name__}: {exc}") from exc
        try:
            reply: dict[str, Any] = json.loads(raw)
        except ValueError as exc:
            raise HopperError(f"hopper {self.address}: unreadable answer {raw[:80]!r}") from exc
        if not reply.get("ok"):
            raise HopperError(f"hopper {self.address}: {line!r}: {reply.get('error')}")
        return reply

    async def card(self) -> str | None:
        """The serial of the card at the contact station, if any."""
        card = (await self.command("status")).get("card")
        return card if isinstance(card, str) else None
