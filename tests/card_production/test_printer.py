"""Rendering and printing through real CUPS + cups-pdf: the PDF that lands, stopped queues."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from services.card_production.hardware import printer
from services.card_production.hardware.render import (
    CardData,
    CertificateData,
    render_card,
    render_certificate,
)
from tests.card_production.hardware_fixtures import PdfQueue
from tests.waiting import wait_for

MM = 72 / 25.4


def image(width: int, height: int, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(buf, fmt)
    return buf.getvalue()


def card(photo: bytes | None = None) -> CardData:
    return CardData(
        provinsi="Jawa Timur",
        kabupaten="Lumajang",
        nik="3508054101990001",
        nama="Siti Aminah",
        tempat_lahir="Lumajang",
        tanggal_lahir=date(1999, 1, 1),
        jenis_kelamin="PEREMPUAN",
        gol_darah="O",
        alamat="Dusun Krajan, Jl. Raya Tempeh No. 12",
        rt="002",
        rw="005",
        kel_desa="Tempeh Tengah",
        kecamatan="Tempeh",
        agama="Islam",
        status_perkawinan="Belum Kawin",
        pekerjaan="Pelajar/Mahasiswa",
        kewarganegaraan="WNI",
        tempat_terbit="Lumajang",
        tanggal_terbit=date(2026, 11, 24),
        photo=photo or image(480, 600, "JPEG"),
        signature=image(260, 120, "PNG"),
    )


def pdf_of_job(queue: PdfQueue, job_id: int) -> Path:
    found = list(queue.out_dir.glob(f"*job_{job_id}*.pdf"))
    assert len(found) == 1, f"job {job_id}: {sorted(p.name for p in queue.out_dir.iterdir())}"
    return found[0]


def lp(command: str, queue: str) -> None:
    subprocess.run([command, queue], check=True, capture_output=True)


def test_card_pdf_has_both_faces_at_cr80() -> None:
    reader = PdfReader(io.BytesIO(render_card(card())))
    assert len(reader.pages) == 2
    front = reader.pages[0].extract_text()
    for text in ("PROVINSI JAWA TIMUR", "KABUPATEN LUMAJANG", "Gol. Darah", "SEUMUR HIDUP"):
        assert text in front
    with pytest.raises(ValueError, match="300 dpi"):
        render_card(card(photo=image(120, 150, "JPEG")))


def test_certificate_is_a4_with_the_holder() -> None:
    cert = CertificateData(
        card=card(),
        nomor="474.4/0012/427.75/2026",
        berlaku_sampai=date(2027, 5, 24),
        pejabat_nama="Drs. Budi Santoso",
        pejabat_nip="197001011990031001",
        pejabat_jabatan="Kepala Dinas Kependudukan dan Pencatatan Sipil",
    )
    page = PdfReader(io.BytesIO(render_certificate(cert))).pages[0]
    assert round(float(page.mediabox.width) / MM) == 210
    assert round(float(page.mediabox.height) / MM) == 297
    text = page.extract_text()
    assert "SURAT KETERANGAN" in text and "3508054101990001" in text and "24-05-2027" in text


async def test_printed_card_lands_as_cr80_pdf(pdf_queue: PdfQueue) -> None:
    job_id = await printer.print_pdf(pdf_queue.name, render_card(card()), title="ktpel-test")
    path = pdf_of_job(pdf_queue, job_id)
    reader = PdfReader(path)
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert abs(float(page.mediabox.width) / MM - 85.60) < 0.3
        assert abs(float(page.mediabox.height) / MM - 53.98) < 0.3
    front = reader.pages[0].extract_text()
    assert "3508054101990001" in front and "SITI AMINAH" in front


async def test_stopped_queue_pauses_the_station(pdf_queue: PdfQueue) -> None:
    assert (await printer.queue_status(pdf_queue.name)).ready
    lp("cupsdisable", pdf_queue.name)
    try:
        status = await printer.queue_status(pdf_queue.name)
        assert not status.ready and status.state == printer.PRINTER_STOPPED
        with pytest.raises(printer.PrinterStopped):
            await printer.print_pdf(pdf_queue.name, render_card(card()), title="stopped")
    finally:
        lp("cupsenable", pdf_queue.name)
    await printer.wait_ready(pdf_queue.name, poll_s=0.05, timeout_s=10)
    ready: bool = await wait_for(
        lambda: _ready(pdf_queue.name), what="queue ready after cupsenable"
    )
    assert ready


async def _ready(queue: str) -> bool:
    return (await printer.queue_status(queue)).ready


async def test_rejecting_or_missing_queue_is_offline(pdf_queue: PdfQueue) -> None:
    lp("cupsreject", pdf_queue.name)
    try:
        with pytest.raises(printer.PrinterOffline, match="rejects"):
            await printer.print_pdf(pdf_queue.name, b"%PDF-1.4", title="rejected")
    finally:
        lp("cupsaccept", pdf_queue.name)
    assert not (await printer.queue_status("tuntas-no-such-queue")).ready
    with pytest.raises(printer.PrinterOffline):
        await printer.print_pdf("tuntas-no-such-queue", b"%PDF-1.4", title="nowhere")
