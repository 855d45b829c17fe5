"""The monthly performance report as a PDF (reportlab, charts included) and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table

from services.service_quality import ikm
from services.service_quality.figures import Figures, csv_rows

_STYLES = getSampleStyleSheet()
_GRID = [
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
]


def to_csv(f: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("section", "item", "value"))
    writer.writerows(csv_rows(f))
    return out.getvalue()


def _table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> Table:
    body = [list(header)] + [[str(c) if c is not None else "-" for c in r] for r in rows]
    table = Table(body or [["-"]], hAlign="LEFT")
    table.setStyle(_GRID)
    return table


def _bars(title: str, labels: list[str], values: list[float], horizontal: bool = False) -> Drawing:
    drawing = Drawing(16 * cm, 6 * cm)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = (4.5 * cm, 0.6 * cm) if horizontal else (1.2 * cm, 1.2 * cm)
    chart.width = 10.5 * cm if horizontal else 14 * cm
    chart.height = 4.6 * cm if horizontal else 4.0 * cm
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = labels or ["-"]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#3a6ea5")
    if not horizontal:
        chart.categoryAxis.labels.angle = 20
        chart.categoryAxis.labels.dy = -6
    drawing.add(chart)
    drawing.add(String(0, 5.6 * cm, title, fontSize=9, fontName="Helvetica-Bold"))
    return drawing


def _h(text: str) -> Paragraph:
    return Paragraph(text, _STYLES["Heading2"])


def to_pdf(f: Figures) -> bytes:
    where = f"Kecamatan {f.kecamatan}" if f.kecamatan else "Kabupaten (semua kecamatan)"
    story: list[Flowable] = [
        Paragraph(f"Laporan kinerja bulanan KTP-el — {f.month:%B %Y}", _STYLES["Title"]),
        Paragraph(
            f"{where}. Dihitung dari event pipeline, pengaduan dan survei IKM.", _STYLES["Normal"]
        ),
        Spacer(1, 0.3 * cm),
        _h("Permohonan"),
        _table(("jenis", "jumlah"), list(f.applications_by_type.items())),
        Spacer(1, 0.2 * cm),
        _table(("ditolak di loket (alasan)", "jumlah"), list(f.refusals_by_reason.items())),
        Spacer(1, 0.2 * cm),
        _table(
            ("dikembalikan / ditolak", "jumlah"),
            [("dikembalikan (send-back)", f.send_backs), ("ditolak kasi", f.rejections)]
            + [(f"  alasan {k}", v) for k, v in f.send_back_reasons.items()],
        ),
        _bars(
            "Waktu per tahap, jam (median)",
            list(f.lead_times),
            [s.median or 0 for s in f.lead_times.values()],
        ),
        _h("Waktu dan SLA"),
        _table(
            ("tahap", "n", "median (jam)", "p90 (jam)"),
            [(k, s.count, s.median, s.p90) for k, s in f.lead_times.items()],
        ),
        Spacer(1, 0.2 * cm),
        _table(
            ("SLA 1 hari kerja", "nilai"),
            [
                ("KTP-el jadi", f.ready),
                ("tepat waktu", f.ready_on_time),
                ("% tepat waktu", f.on_time_pct),
                ("pelanggaran SLA", f.sla_breaches),
            ],
        ),
        _h("Blanko, Surat Keterangan, pengambilan"),
        _table(
            ("butir", "jumlah"),
            [
                ("blanko terpakai", f.blanks_used),
                ("blanko rusak", f.blanks_spoiled),
                ("Surat Keterangan terbit", f.certificates),
                ("KTP-el diambil", f.collected),
                ("KTP-el disimpan (belum diambil)", f.stored_uncollected),
            ]
            + [(f"SMS {k}", v) for k, v in f.sms.items()]
            + [("panggilan telepon", sum(f.calls.values()))]
            + [(f"telepon: {k}", v) for k, v in f.calls.items()],
        ),
        _h("Pengaduan"),
        _table(
            ("kanal", "jumlah", "selesai median (hari)", "p90 (hari)"),
            [
                (k, v, f.complaint_resolution[k].median, f.complaint_resolution[k].p90)
                for k, v in f.complaints_by_channel.items()
            ],
        ),
        Paragraph(
            f"Belum selesai: {f.complaints_open}; dieskalasi ke camat: {f.complaints_escalated}.",
            _STYLES["Normal"],
        ),
        _bars(
            "Pengaduan per kanal",
            list(f.complaints_by_channel),
            [float(v) for v in f.complaints_by_channel.values()],
        ),
        _h("Indeks Kepuasan Masyarakat (PermenPAN-RB 14/2017)"),
    ]
    story += _survey(f)
    if f.per_kecamatan and not f.kecamatan:
        story += [
            _h("Per kecamatan"),
            _table(
                ("kecamatan", "diterima", "ditolak", "jadi", "diambil"),
                [(k, *v.values()) for k, v in f.per_kecamatan.items()],
            ),
        ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=f"Laporan kinerja {f.month:%Y-%m} {f.kecamatan or 'kabupaten'}",
        leftMargin=1.8 * cm, rightMargin=1.8 * cm, topMargin=1.5 * cm, bottomMargin=1.5 * cm,
        invariant=True,
    )  # fmt: skip
    doc.build(story)
    return out.getvalue()


def _survey(f: Figures) -> list[Flowable]:
    s = f.survey
    sample = (
        f"Responden: {s.responses if s else 0} dari sampel minimum {f.survey_minimum} "
        f"(populasi {f.survey_population} permohonan, tabel Krejcie-Morgan)."
    )
    if s is None:
        return [Paragraph("Belum ada jawaban survei. " + sample, _STYLES["Normal"])]
    names = dict(ikm.ELEMENTS)
    return [
        Paragraph(
            f"IKM <b>{s.index:.2f}</b>, mutu <b>{s.grade}</b> ({s.quality}). {sample} "
            f"Unsur terendah: {', '.join(f'{c} {names[c]}' for c in s.lowest)}.",
            _STYLES["Normal"],
        ),
        _table(
            ("unsur", "uraian", "NRR"),
            [
                (code, name, f"{mean:.2f}")
                for (code, name), mean in zip(ikm.ELEMENTS, s.element_means, strict=True)
            ],
        ),
        _bars(
            "Nilai rata-rata per unsur (1-4)",
            [code for code, _ in ikm.ELEMENTS],
            list(s.element_means),
        ),
    ]
