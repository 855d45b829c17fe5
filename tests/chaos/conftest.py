"""A PostgreSQL server of the test's own, to stop as ``pg_ctl -m immediate`` does (the shared
one is never stopped)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuntas.stack.postgres import PostgresNode
from tuntas.stack.prereq import free_port


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[PostgresNode]:
    node = PostgresNode(tmp_path / "postgres", free_port())
    node.start()
    try:
        yield node
    finally:
        node.stop()


def stop_immediately(node: PostgresNode) -> None:
    """SIGQUIT to the postmaster: no shutdown checkpoint, every connection cut."""
    pid = int((node.data / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGQUIT)
