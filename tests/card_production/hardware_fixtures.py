"""Real card-station components for tests: a pcscd of the test run's own with vpcd readers
and the chip simulator (``simulators.vchip``: chip + hopper), CUPS with a cups-pdf queue named
after the run. Started through the project's launchers (tuntas.stack.pcsc / .cups).

Another run's pcscd is kept up beside ours for the whole session: the card tests pass while
it runs (runs do not share pcscd, readers, ports or queues).

Use from a conftest.py: ``from tests.card_production.hardware_fixtures import *``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from smartcard.Exceptions import SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.System import readers

from simulators.vchip.address import default_hopper
from simulators.vchip.control import HopperControl
from tests.waiting import wait_for
from tuntas.stack import cups, pcsc

REPO = Path(__file__).resolve().parents[2]
RUN = f"test-{uuid.uuid4().hex[:8]}"

__all__ = [
    "ChipSlot", "PdfQueue", "blank_card", "chip_slot", "insert", "other_pcscd", "pcscd",
    "pdf_queue",
]  # fmt: skip


@dataclass(frozen=True)
class ChipSlot:
    reader: str  # PC/SC reader name in the test run's pcscd
    port: int  # vpcd port the chip connects to
    state_dir: Path  # the simulator's cards
    hopper: str  # the hopper's address (feeder setting "hopper:<address>")
    control: HopperControl


@dataclass(frozen=True)
class PdfQueue:
    name: str
    out_dir: Path  # cups-pdf writes job_<id> files here


def _card_answers(reader: str) -> bool:
    """A PC/SC connection to the card in ``reader`` works (the card is really in)."""
    try:
        found = [r for r in readers() if str(r) == reader]
        if not found:
            return False
        conn = found[0].createConnection()
        conn.connect()
        conn.disconnect()
    except (SmartcardException, BaseSCardException):
        return False
    return True


async def insert(slot: ChipSlot, kind: str = "blank") -> None:
    """Swap the card in ``slot`` for a fresh ``blank`` or ``foreign`` one; waits until it answers.

    The ejection is awaited first, so a probe never talks to the previous card.
    """
    slot.control.clear_faults()
    slot.control.eject()
    await wait_for(
        lambda: not _card_answers(slot.reader),
        timeout=10,
        what=f"card out of {slot.reader}",
    )
    slot.control.send("insert-foreign" if kind == "foreign" else f"insert-blank {kind}")
    await wait_for(lambda: _card_answers(slot.reader), timeout=10, what=f"card in {slot.reader}")


@pytest.fixture(scope="session")
def other_pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pcsc.Readers]:
    """Another run's pcscd (as a `make up` beside the tests would have)."""
    run = pcsc.allocate(tmp_path_factory.mktemp("other-pcscd"), f"{RUN}-other", 2)
    pcsc.ensure_pcscd(run)
    yield run
    pcsc.stop_pcscd(run.run_dir)


@pytest.fixture(scope="session")
def pcscd(
    other_pcscd: pcsc.Readers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[pcsc.Readers]:
    """The test run's own pcscd with readers for stations 0 and 1; this process (and the
    stations it runs in-process) talk to it through ``PCSCLITE_CSOCK_NAME``."""
    run = pcsc.allocate(tmp_path_factory.mktemp("pcscd"), RUN, 2)
    pcsc.ensure_pcscd(run)
    os.environ.update(run.env())  # before this process's first PC/SC call
    yield run
    pcsc.stop_pcscd(run.run_dir)


@pytest.fixture(scope="session")
def chip_slot(pcscd: pcsc.Readers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChipSlot]:
    """The chip simulator in station 0's reader slot."""
    state_dir = tmp_path_factory.mktemp("vchip")
    port, hopper = pcscd.vpcd_port(0), default_hopper(state_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.vchip", "--vpcd-port", str(port),
         "--state-dir", str(state_dir), "--hopper", hopper],
        cwd=REPO,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not Path(hopper).exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"vchip did not start (exit {proc.returncode})")
        time.sleep(0.05)
    yield ChipSlot(pcscd.reader_name(0), port, state_dir, hopper, HopperControl(hopper))
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
async def blank_card(chip_slot: ChipSlot) -> ChipSlot:
    """Station 0's reader holding a fresh blank KTP-el, no faults armed."""
    await insert(chip_slot, "blank")
    return chip_slot


@pytest.fixture(scope="session")
def pdf_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdfQueue]:
    """A cups-pdf queue named after the test run (removed at the end)."""
    cups.ensure_cupsd()
    name = cups.queue_name("350805", RUN)
    out = cups.ensure_pdf_queue(name, tmp_path_factory.mktemp("cups-pdf"))
    yield PdfQueue(name, out)
    cups.remove_pdf_queue(name)
