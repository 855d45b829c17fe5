"""A deployment whose port is taken says so before it starts anything: a chaos day once ran
beside a demo test whose offset was 100 lower, and its capture devices' port was the other
run's SP4N-LAPOR! stand-in, which answered the day's first capture with a stranger's 404."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tuntas import topology, up
from tuntas.stack import local
from tuntas.stack.errors import StackError

OFFSET = 2300  # beside the suite's other runs (0, 600, 700, 1000)
LAPOR = topology.LAPOR_PORT + OFFSET


def test_runs_100_apart_share_ports(tmp_path: Path) -> None:
    low = topology.listening_ports(topology.Options(home=tmp_path, port_offset=OFFSET))
    high = topology.listening_ports(topology.Options(home=tmp_path, port_offset=OFFSET + 100))
    shared = set(low) & set(high)
    assert low[LAPOR] == "SP4N-LAPOR!" and high[LAPOR] == "the capture devices"
    assert LAPOR in shared
    far = topology.listening_ports(topology.Options(home=tmp_path, port_offset=OFFSET + 1000))
    assert not set(low) & set(far)


async def test_a_taken_port_stops_the_start_with_its_name(tmp_path: Path) -> None:
    options = topology.Options(home=tmp_path, kecamatan=("350805", "350804"), port_offset=OFFSET)
    console = topology.CONSOLE_PORT + OFFSET
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", console))
        holder.listen()
        with pytest.raises(StackError, match=f"port {console} for the console is in use"):
            async with up.running(options, local.StackConfig.from_env()):
                raise AssertionError("started although the console's port is taken")
    assert not (tmp_path / "logs").exists()  # nothing was started
