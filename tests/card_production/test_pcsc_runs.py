"""Runs do not share PC/SC or CUPS: each has its own pcscd (socket), reader names, vpcd ports
and queue names. The other run's pcscd is up during all the card tests."""

from __future__ import annotations

from pathlib import Path

from tests.card_production.hardware_fixtures import ChipSlot
from tuntas import topology
from tuntas.stack import cups, pcsc


def test_two_runs_readers_ports_and_queues_do_not_collide(
    pcscd: pcsc.Readers, other_pcscd: pcsc.Readers, chip_slot: ChipSlot
) -> None:
    ours = {pcscd.reader_name(i) for i in range(pcscd.count)}
    theirs = {other_pcscd.reader_name(i) for i in range(other_pcscd.count)}
    assert not ours & theirs
    ports = {pcscd.vpcd_port(i) for i in range(pcscd.count)}
    assert not ports & {other_pcscd.vpcd_port(i) for i in range(other_pcscd.count)}
    assert pcscd.socket != other_pcscd.socket
    # Both daemons are up at once, each listing only its own readers.
    assert set(pcsc.present_readers(other_pcscd)) == theirs
    assert set(pcsc.present_readers(pcscd)) == ours
    assert chip_slot.reader in ours


def test_demo_and_bench_runs_get_their_own_names(tmp_path: Path) -> None:
    demo = topology.Options(home=tmp_path, run_name="demo-1", kecamatan=("350805", "350806"))
    bench = topology.Options(home=tmp_path, run_name="bench-2", kecamatan=("350805",))
    up = topology.Options(home=tmp_path / "up", kecamatan=("350805",))
    queues = [topology.queue("350805", o) for o in (demo, bench, up)]
    assert len(set(queues)) == 3 and queues[2] == cups.queue_name("350805")
    runs = [topology.readers(o) for o in (demo, bench, up)]
    assert len({r.reader_name(0) for r in runs}) == 3
    assert len({r.vpcd_port(0) for r in runs}) == 3
    assert len({r.socket for r in runs}) == 3
    assert topology.readers(demo) == runs[0]  # kept: the processes and pcscd agree
