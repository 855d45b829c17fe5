"""Print files: both faces of a KTP-el (CR-80, 2 pages) and the temporary Surat Keterangan (A4).

Blank KTP-el stock comes pre-printed (background, emblem, "NIK" frame), so the card faces
carry only the personalisation: text in vector fonts, photo and signature as images that must
reach 300 dpi at their printed size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

CARD_SIZE = (85.60 * mm, 53.98 * mm)  # ISO/IEC 7810 ID-1
MIN_DPI = 300
REGULAR, BOLD = "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class CardData:
    """The printed fields; names follow the card's own labels."""

    provinsi: str  # "JAWA TIMUR"
    kabupaten: str  # "LUMAJANG", or "KOTA MALANG" for a kota
    nik: str
    nama: str
    tempat_lahir: str
    tanggal_lahir: date
    jenis_kelamin: str  # "LAKI-LAKI" / "PEREMPUAN"
    gol_darah: str  # "A", "B", "AB", "O" or "-"
    alamat: str
    rt: str
    rw: str
    kel_desa: str
    kecamatan: str
    agama: str
    status_perkawinan: str
    pekerjaan: str
    kewarganegaraan: str  # "WNI"
    tempat_terbit: str  # where the card is issued, e.g. "LUMAJANG"
    tanggal_terbit: date
    photo: bytes  # JPEG/PNG, portrait
    signature: bytes  # JPEG/PNG
    berlaku_hingga: str = "SEUMUR HIDUP"

    @property
    def heading(self) -> tuple[str, str]:
        kab = self.kabupaten.upper()
        return f"PROVINSI {self.provinsi.upper()}", kab if kab.startswith("KOTA ") else (
            f"KABUPATEN {kab}"
        )

    def fields(self) -> list[tuple[str, str]]:
        """(label, value) in the card's order, after the NIK."""
        return [
            ("Nama", self.nama),
            ("Tempat/Tgl Lahir", f"{self.tempat_lahir}, {_d(self.tanggal_lahir)}"),
            ("Jenis Kelamin", self.jenis_kelamin),
            ("Alamat", self.alamat),
            ("    RT/RW", f"{self.rt}/{self.rw}"),
            ("    Kel/Desa", self.kel_desa),
            ("    Kecamatan", self.kecamatan),
            ("Agama", self.agama),
            ("Status Perkawinan", self.status_perkawinan),
            ("Pekerjaan", self.pekerjaan),
            ("Kewarganegaraan", self.kewarganegaraan),
            ("Berlaku Hingga", self.berlaku_hingga),
        ]


@dataclass(frozen=True)
class CertificateData:
    """A Surat Keterangan standing in for the card while blanks are out."""

    card: CardData
    nomor: str  # letter number
    berlaku_sampai: date  # about 6 months after issue
    pejabat_nama: str
    pejabat_nip: str
    pejabat_jabatan: str  # e.g. "KEPALA DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL"


def _d(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def _image(c: Canvas, raw: bytes, what: str, x: float, y: float, w: float, h: float) -> None:
    """Draw ``raw`` fitted into the box, centred; ValueError below MIN_DPI at that size."""
    img = ImageReader(io.BytesIO(raw))
    px_w, px_h = img.getSize()
    scale = min(w / px_w, h / px_h)  # points per pixel
    dpi = 72 / scale
    if dpi < MIN_DPI:
        raise ValueError(
            f"{what} is {px_w}x{px_h} px: {dpi:.0f} dpi at {w / mm:.0f}x{h / mm:.0f} mm, "
            f"needs {MIN_DPI} dpi"
        )
    dw, dh = px_w * scale, px_h * scale
    c.drawImage(img, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh, mask="auto")


def _fit(text: str, font: str, size: float, width: float) -> float:
    """The font size at which ``text`` fits ``width`` (never above ``size``)."""
    natural: float = stringWidth(text, font, size)
    return min(size, size * width / max(natural, 1e-6))


def _front(c: Canvas, card: CardData) -> None:
    w, h = CARD_SIZE
    prov, kab = card.heading
    c.setFont(BOLD, 6.5)
    c.drawCentredString(w / 2, h - 4.5 * mm, prov)
    c.drawCentredString(w / 2, h - 7.6 * mm, kab)
    c.setFont(BOLD, 8)
    c.drawString(3 * mm, h - 12 * mm, "NIK")
    c.drawString(17 * mm, h - 12 * mm, ":")
    c.setFont("Courier-Bold", 9)
    c.drawString(19 * mm, h - 12 * mm, card.nik)
    label_x, colon_x, value_x, right = 3 * mm, 22 * mm, 23.5 * mm, 61.5 * mm
    y = h - 16 * mm
    for label, value in card.fields():
        c.setFont(REGULAR, 5.2)
        indent = 2 * mm if label.startswith(" ") else 0  # the address's sub-lines
        c.drawString(label_x + indent, y, label.strip())
        c.drawString(colon_x, y, ":")
        text = value.upper()
        limit = right - value_x
        if label == "Jenis Kelamin":  # shares its line with the blood group
            blood = f"Gol. Darah : {card.gol_darah.upper()}"
            c.drawString(44 * mm, y, blood)
            limit = 44 * mm - value_x - 1 * mm
        c.setFont(REGULAR, _fit(text, REGULAR, 5.2, limit))
        c.drawString(value_x, y, text)
        y -= 2.55 * mm
    photo_x, photo_w = 63 * mm, 20 * mm
    _image(c, card.photo, "photo", photo_x, h - 35 * mm, photo_w, 25 * mm)
    c.setFont(REGULAR, 5)
    centre = photo_x + photo_w / 2
    c.drawCentredString(centre, 15.5 * mm, card.tempat_terbit.upper())
    c.drawCentredString(centre, 13.2 * mm, _d(card.tanggal_terbit))
    _image(c, card.signature, "signature", 64 * mm, 3 * mm, 18 * mm, 9 * mm)


def _back(c: Canvas, card: CardData) -> None:
    w, h = CARD_SIZE
    _, kab = card.heading
    c.setFont(BOLD, 6)
    c.drawCentredString(w / 2, h - 6 * mm, "KARTU TANDA PENDUDUK ELEKTRONIK")
    c.setFont("Courier-Bold", 8)
    c.drawCentredString(w / 2, h - 11 * mm, card.nik)
    c.setFont(REGULAR, 4.6)
    notice = [
        "Kartu ini milik Pemerintah Republik Indonesia.",
        "Apabila menemukan kartu ini, harap dikembalikan kepada",
        f"Dinas Kependudukan dan Pencatatan Sipil {kab.title()}.",
    ]
    for i, line in enumerate(notice):
        c.drawCentredString(w / 2, 12 * mm - i * 2.2 * mm, line)


def render_card(card: CardData) -> bytes:
    """A 2-page PDF at CR-80 size: page 1 the front, page 2 the back."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=CARD_SIZE, pageCompression=1)
    c.setTitle(f"KTP-el {card.nama}")
    _front(c, card)
    c.showPage()
    _back(c, card)
    c.showPage()
    c.save()
    return buf.getvalue()


def render_certificate(cert: CertificateData) -> bytes:
    """The Surat Keterangan pengganti KTP-el as a 1-page A4 PDF."""
    card = cert.card
    _, kab = card.heading
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"Surat Keterangan {cert.nomor}")
    w, h = A4
    c.setFont(BOLD, 13)
    c.drawCentredString(w / 2, h - 25 * mm, f"PEMERINTAH {kab}")
    c.drawCentredString(w / 2, h - 31 * mm, "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL")
    c.setLineWidth(1.2)
    c.line(20 * mm, h - 35 * mm, w - 20 * mm, h - 35 * mm)
    c.setFont(BOLD, 12)
    c.drawCentredString(w / 2, h - 46 * mm, "SURAT KETERANGAN")
    c.setFont(REGULAR, 10)
    c.drawCentredString(w / 2, h - 51 * mm, "PENGGANTI KTP-EL SEMENTARA")
    c.drawCentredString(w / 2, h - 56 * mm, f"Nomor: {cert.nomor}")
    y = h - 68 * mm
    c.drawString(25 * mm, y, "Yang bertanda tangan di bawah ini menerangkan bahwa:")
    y -= 8 * mm
    rows = [("NIK", card.nik), *card.fields()[:-1], ("Gol. Darah", card.gol_darah)]
    for label, value in rows:
        c.drawString(30 * mm, y, label.strip())
        c.drawString(75 * mm, y, ":")
        c.drawString(78 * mm, y, _trim(value.upper(), REGULAR, 10, w - 103 * mm))
        y -= 6 * mm
    body = [
        "telah melakukan perekaman KTP-el dan tercatat dalam database kependudukan.",
        "KTP-el yang bersangkutan belum dapat dicetak karena blangko KTP-el belum tersedia.",
        "Surat keterangan ini berlaku sebagai pengganti KTP-el sampai dengan",
        f"tanggal {_d(cert.berlaku_sampai)}.",
    ]
    y -= 3 * mm
    for line in body:
        c.drawString(25 * mm, y, line)
        y -= 6 * mm
    _image(c, card.photo, "photo", 25 * mm, y - 45 * mm, 30 * mm, 40 * mm)
    x = w - 85 * mm
    c.drawString(x, y - 5 * mm, f"{card.tempat_terbit.title()}, {_d(card.tanggal_terbit)}")
    c.drawString(x, y - 11 * mm, _trim(cert.pejabat_jabatan, REGULAR, 10, 70 * mm))
    c.setFont(BOLD, 10)
    c.drawString(x, y - 38 * mm, cert.pejabat_nama)
    c.setFont(REGULAR, 10)
    c.drawString(x, y - 43 * mm, f"NIP. {cert.pejabat_nip}")
    c.showPage()
    c.save()
    return buf.getvalue()


def _trim(text: str, font: str, size: float, width: float) -> str:
    while text and stringWidth(text, font, size) > width:
        text = text[:-1]
    return text
