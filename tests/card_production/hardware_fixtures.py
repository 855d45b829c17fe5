"""Real card-station components for tests: pcscd + vpcd with a virtual KTP-el chip, CUPS with a
cups-pdf queue. Started through the project's launchers (tuntas.stack.pcsc / .cups).

Use from a conftest.py: ``from tests.card_production.hardware_fixtures import *``.
``blank_card`` gives a fresh blank KTP-el in station 0's reader; ``pdf_queue`` a cups-pdf
queue (enabled, accepting) and the folder where its PDFs land.
"""

from __future__ import annotations

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

from services.card_production.hardware.vchip import VChipControl, control_path
from tests.waiting import wait_for
from tuntas.stack import cups, pcsc

REPO = Path(__file__).resolve().parents[2]

__all__ = ["ChipSlot", "PdfQueue", "blank_card", "chip_slot", "insert", "pcscd", "pdf_queue"]


@dataclass(frozen=True)
class ChipSlot:
    reader: str  # PC/SC reader name, e.g. "Virtual PCD 00 00"
    port: int  # vpcd port the chip connects to
    state_dir: Path  # the chip's card.json and control.sock
    control: VChipControl


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

    Removal is awaited first, so a probe never talks to the previous card.
    """
    slot.control.clear_faults()
    slot.control.remove()
    await wait_for(
        lambda: not _card_answers(slot.reader),
        timeout=10,
        what=f"card removed from {slot.reader}",
    )
    slot.control.send(f"insert-{kind}")
    await wait_for(lambda: _card_answers(slot.reader), timeout=10, what=f"card in {slot.reader}")


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """pcscd with vpcd readers for stations 0 and 1; yields its run dir."""
    run_dir = tmp_path_factory.mktemp("pcscd")
    pcsc.ensure_pcscd(run_dir, readers=2)
    yield run_dir
    pcsc.stop_pcscd(run_dir)


@pytest.fixture(scope="session")
def chip_slot(pcscd: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChipSlot]:
    """The virtual chip process in station 0's reader slot."""
    state_dir = tmp_path_factory.mktemp("vchip")
    port = pcsc.vpcd_port(0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.card_production.hardware.vchip",
         "--port", str(port), "--state-dir", str(state_dir)],
        cwd=REPO,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not control_path(state_dir).exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"vchip did not start (exit {proc.returncode})")
        time.sleep(0.05)
    yield ChipSlot(pcsc.reader_name(0), port, state_dir, VChipControl(state_dir))
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
async def blank_card(chip_slot: ChipSlot) -> ChipSlot:
    """Station 0's reader holding a fresh blank KTP-el, no faults armed."""
    await insert(chip_slot, "blank")
    return chip_slot


@pytest.fixture(scope="session")
def pdf_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdfQueue]:
    """A cups-pdf queue of our own (removed at the end), printing into a temp folder."""
    cups.ensure_cupsd()
    name = f"tuntas-test-{uuid.uuid4().hex[:8]}"
    out = cups.ensure_pdf_queue(name, tmp_path_factory.mktemp("cups-pdf"))
    yield PdfQueue(name, out)
    cups.remove_pdf_queue(name)
