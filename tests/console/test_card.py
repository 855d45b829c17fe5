"""The card operator in a real browser against a real card station (its own pcscd with the
virtual chip in a vpcd reader, a cups-pdf queue): the reader, printer and blank stock at a
glance; with no blanks a job waits and its Surat Keterangan is issued from the screen (the PDF
served); a delivery lets the job print, seen in the live queue without a reload; a blank is
spoiled with a reason (the stock goes down, a used blank is refused); the card is activated
after a live finger that does not match."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from schemas.envelope import Envelope
from schemas.events import RecordPrintReady
from tests.card_production.biometric_stub import finger_seed, serving_stub
from tests.card_production.hardware_fixtures import ChipSlot, PdfQueue
from tests.card_production.station_support import (
    TEMPEH,
    RunningStation,
    print_ready,
    produce,
    record_of,
    station,
)
from tests.console.browser import Browser
from tests.console.live_page import press_fresh, text_of
from tests.console.stack import Stack
from tests.waiting import wait_for

PRINTED_WITHIN_S = 150

PIN = "135790"


@dataclass
class Card:
    station: RunningStation
    job: Envelope  # the print work the station takes from Kafka


@contextlib.asynccontextmanager
async def card_station(
    stack: Stack, home: Path, slot: ChipSlot, queue: PdfQueue
) -> AsyncIterator[RunningStation]:
    """Tempeh's station (no blanks yet) with the biometric card-data stub, on the stack's loop
    and topics, so the console's live consumer sees its events."""
    async with (
        serving_stub() as biometric,
        station(
            kafka_bootstrap=stack.kafka, pg_dsn=stack.dsn, db_schema=stack.new_schema(),
            topic_prefix=stack.prefix, tmp_path=home, slot=slot, queue=queue,
            biometric=biometric, low_stock_threshold=1,
        ) as running,
    ):  # fmt: skip
        yield running


@pytest.fixture(scope="module")
def card(
    stack: Stack,
    chip_slot: ChipSlot,
    pdf_queue: PdfQueue,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Card]:
    served = card_station(stack, tmp_path_factory.mktemp("station"), chip_slot, pdf_queue)
    running = stack.run(served.__aenter__(), timeout=180)  # stopped before its devices go
    try:
        stack.run(wait_for(lambda: printer_ready(running), what="the station's printer"))
        before = stack.running.console.stages.settings.station_urls if stack.running else {}
        stack.point(station_urls={TEMPEH: str(running.http.base_url).rstrip("/")})
        yield Card(running, print_ready(nik="3508054107850077", name="Ayu Lestari"))
        stack.point(station_urls=before)
    finally:
        stack.run(served.__aexit__(None, None, None), timeout=90)


async def printer_ready(running: RunningStation) -> bool:
    health = (await running.http.get("/health")).json()
    return bool(health["station"]["printer"].get("ready"))


def shows_blanks(browser: Browser, count: int) -> None:
    """The glance's blank count becomes ``count`` (read in one script: it is a live part)."""
    browser.wait().until(lambda d: text_of(d, "blanks") == str(count))


def test_card_operator_certificate_print_spoil_and_activation(
    browser_as: Callable[[str], Browser], stack: Stack, card: Card
) -> None:
    operator = browser_as("card.tempeh")
    operator.go("/card")
    assert operator.text("#reader-state") == "belum dipakai sejak stasiun dinyalakan"
    assert operator.text("#printer-state") == "Siap"
    shows_blanks(operator, 0)
    assert "stok menipis" in text_of(operator.driver, "glance")
    assert operator.check("card-station") == []

    # No blanks: the job waits; it appears in the open queue through the live nudge.
    marker = operator.driver.execute_script("return window.performance.timeOrigin")
    topic = card.station.topics.print_ready(TEMPEH)
    stack.run(produce(stack.kafka, topic, card.job))
    assert isinstance(card.job.payload, RecordPrintReady)
    tracking = card.job.payload.tracking_number
    row = f"job-{card.job.correlation_id}"
    operator.wait().until(lambda d: "Menunggu blangko" in text_of(d, row))
    assert operator.driver.execute_script("return window.performance.timeOrigin") == marker
    assert tracking in text_of(operator.driver, row)

    press_fresh(operator, f"#{row} button")
    operator.at("/card?certificate=")  # redirected: a reload does not issue it again
    assert "Surat Keterangan 470/" in operator.text("#certificate")
    assert "Surat Keterangan terbit" in text_of(operator.driver, row)
    marker = operator.driver.execute_script("return window.performance.timeOrigin")
    assert operator.check("card-certificate") == []
    pdf = operator.fetch(f"/card/jobs/{card.job.correlation_id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "SURAT KETERANGAN" in text and "3508054107850077" in text

    # The Dinas courier's delivery (at the station's API): the job prints by itself and the
    # queue on the open page follows it to "ready for collection".
    delivery = {"batch_ref": "DO-CONSOLE", "first_serial": "KTP-7001",
                "last_serial": "KTP-7003", "received_by": "card.tempeh"}  # fmt: skip
    added = stack.run(card.station.http.post("/stock/batches", json=delivery))
    assert added.status_code == 201, added.text
    # Printing drives the real reader, chip and CUPS queue: on a loaded machine the station
    # may time out a step once and retry the job (an alert), so this waits for the station's
    # own print timeout rather than a page's.
    operator.wait(PRINTED_WITHIN_S).until(lambda d: "Siap diambil" in text_of(d, row))
    assert "KTP-7001" in text_of(operator.driver, row)  # the blank it was printed on
    # the glance follows too: two blanks left, the reader known good from the chip it wrote
    shows_blanks(operator, 2)
    assert text_of(operator.driver, "reader-state") == "Siap"
    assert operator.driver.execute_script("return window.performance.timeOrigin") == marker
    assert operator.check("card-printed") == []

    # A blank found damaged: recorded with its reason, the stock goes down by one.
    operator.type("#serial", "KTP-7003")
    operator.find("#spoil-reason").send_keys("Rusak di penyimpanan")
    operator.type("#spoil-note", "tergores di laci")
    operator.press("#spoil")
    operator.at("/card?spoiled=KTP-7003")
    assert "KTP-7003" in operator.text("#spoiled")
    shows_blanks(operator, 1)
    assert operator.check("card-spoiled") == []
    stock = stack.run(card.station.http.get("/stock")).json()
    assert [(s["serial"], s["reason"], s["note"]) for s in stock["spoiled"]] == [
        ("KTP-7003", "damaged", "tergores di laci")
    ]
    operator.type("#serial", "KTP-7001")  # already on the printed card
    operator.press("#spoil")
    assert operator.text("#refusal")
    shows_blanks(operator, 1)
    assert operator.check("card-spoil-refused") == []

    # Activation at the counter: a finger that is not the holder's, then theirs.
    operator.go(f"/card/jobs/{card.job.correlation_id}/activate")
    assert operator.check("card-activate") == []
    operator.type("#finger_seed", "someone-else|1")
    operator.type("#pin", PIN)
    operator.press("#activate")
    assert "tidak cocok" in operator.text("#activation")
    operator.type("#finger_seed", finger_seed(record_of(card.job), 1))
    operator.type("#pin", PIN)
    operator.press("#activate")  # the page is replaced: read the new one's answer
    operator.wait().until(lambda d: "KTP-el aktif" in text_of(d, "activation"))
    assert operator.text("#job-state") == "Aktif"
    assert operator.check("card-activated") == []
