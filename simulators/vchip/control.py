"""A blocking client of a running chip simulator's hopper socket (tests, the command line).

One line per connection, one JSON line back; see docs/card-station.md.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from simulators.vchip.address import tcp


class HopperControl:
    def __init__(self, address: str) -> None:
        self.address = address

    def send(self, line: str) -> dict[str, Any]:
        where = tcp(self.address)
        family = socket.AF_UNIX if where is None else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(self.address if where is None else where)
            sock.sendall(line.encode() + b"\n")
            reply: dict[str, Any] = json.loads(sock.makefile().readline())
        if not reply.get("ok"):
            raise RuntimeError(f"hopper: {reply.get('error')}")
        return reply

    def insert_blank(self, serial: str = "test") -> None:
        self.send(f"insert-blank {serial}")

    def insert_foreign(self) -> None:
        self.send("insert-foreign")

    def eject(self) -> None:
        self.send("eject")

    def reseat(self) -> None:
        self.send("reseat")

    def pull_after(self, writes: int) -> None:
        self.send(f"fault pull-after {writes}")

    def fail_after(self, writes: int) -> None:
        self.send(f"fault fail-after {writes}")

    def clear_faults(self) -> None:
        self.send("fault clear")

    def status(self) -> dict[str, Any]:
        return self.send("status")
