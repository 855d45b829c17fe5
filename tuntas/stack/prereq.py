"""Checks run before starting anything, so a user sees one line naming the fix, not a trace."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
from pathlib import Path

from tuntas.stack.errors import StackError

MIN_FREE_BYTES = 1 << 30  # Kafka and PostgreSQL need room for logs and WAL.


def require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError(
            "java not found: install Java 17 (apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    version = out.split('"')[1] if '"' in out else ""
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < 17:
        raise StackError(f"java {version or '?'} is too old: Kafka 4 needs Java 17 or newer")
    return java


def require_mvn() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("mvn not found: install Maven (apt-get install maven) to fetch Kafka jars")
    return mvn


def require_free_port(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise StackError(
                f"port {port} for {what} is in use: stop what holds it "
                f"(ss -ltnp 'sport = :{port}') or set another port"
            ) from None


def require_disk(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path).free
    if free < MIN_FREE_BYTES:
        raise StackError(
            f"only {free >> 20} MiB free under {path}: free at least 1 GiB or set TUNTAS_HOME"
        )


def free_port() -> int:
    """A port nothing listens on now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def is_free(port: int) -> bool:
    """Nothing holds ``port`` on the loopback now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_block(size: int) -> int:
    """The first of ``size`` consecutive free ports, below Linux's ephemeral range (32768-):
    there a client socket can take a port between this check and the server binding it (a CI
    run's 3-node cluster exited at start-up once), and never the shared stack's."""
    rng = random.Random()
    while True:
        base = rng.randrange(20000, 32000 - size)
        if all(is_free(base + i) for i in range(size)):
            return base
