"""The desk's printed papers, drawn with ReportLab: the receipt (tanda terima) with tracking
number and promised date, and the proof of collection (bukti penerimaan) with the signature."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from services.console.i18n import Words


def _page(
    title: str, office: str, rows: Sequence[tuple[str, str]], words: Words
) -> tuple[Canvas, io.BytesIO, float]:
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A5, pageCompression=1)
    pdf.setTitle(title)
    width, height = A5
    y = height - 20 * mm
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawCentredString(width / 2, y, title)
    y -= 7 * mm
    pdf.setFont("Helvetica", 10)
    pdf.drawCentredString(width / 2, y, f"{words('pdf.office')} {office}")
    y -= 12 * mm
    for label, value in rows:
        pdf.setFont("Helvetica", 9)
        pdf.drawString(15 * mm, y, label)
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(60 * mm, y, value[:60])
        y -= 7 * mm
    return pdf, out, y


def receipt(
    words: Words,
    office: str,
    rows: Sequence[tuple[str, str]],
    checklist: Sequence[str],
) -> bytes:
    pdf, out, y = _page(words("pdf.receipt"), office, rows, words)
    y -= 3 * mm
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(15 * mm, y, words("desk.checklist"))
    pdf.setFont("Helvetica", 9)
    for item in checklist:
        y -= 5 * mm
        pdf.drawString(18 * mm, y, f"[x] {item}")
    y -= 10 * mm
    pdf.setFont("Helvetica-Oblique", 9)
    pdf.drawString(15 * mm, y, words("pdf.keep"))
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def proof(
    words: Words, office: str, rows: Sequence[tuple[str, str]], signature: bytes | None
) -> bytes:
    pdf, out, y = _page(words("pdf.proof"), office, rows, words)
    y -= 5 * mm
    pdf.setFont("Helvetica", 9)
    pdf.drawString(15 * mm, y, words("pdf.signature"))
    if signature:
        image = ImageReader(io.BytesIO(signature))
        pdf.drawImage(
            image, 15 * mm, y - 32 * mm, 70 * mm, 28 * mm, preserveAspectRatio=True, mask="auto"
        )
    pdf.rect(15 * mm, y - 33 * mm, 72 * mm, 30 * mm)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
