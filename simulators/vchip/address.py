"""Where the hopper listens: a UNIX socket path or ``host:port`` (TCP)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with the terminating NUL


def default_hopper(state_dir: Path) -> str:
    """The hopper socket: in the state dir, or, when that path is too long for a UNIX socket
    (deep temp or run folders), under /tmp with a name derived from the state dir."""
    path = state_dir.absolute() / "hopper.sock"
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        return str(path)
    digest = hashlib.sha256(os.fsencode(state_dir.absolute())).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"tuntas-hopper-{digest}.sock")


def tcp(address: str) -> tuple[str, int] | None:
    """(host, port) of a TCP address; None for a UNIX socket path."""
    if address.startswith("/"):
        return None
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)
