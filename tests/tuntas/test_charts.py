"""Report charts: well-formed SVG whose bars are proportional to the values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tuntas.charts import bar_chart, stack

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_proportional_and_labels_escaped() -> None:
    svg = bar_chart(
        "Lead <time>", [("a & b", (10.0, 5.0)), ("c", (20.0, 0.0))], unit=" s", series=("x", "y")
    )
    root = ET.fromstring(svg)
    bars = [float(r.attrib["width"]) for r in root.iter(f"{SVG}rect") if r.attrib["height"] != "12"]
    assert bars == [180.0, 90.0, 360.0, 0.0]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Lead <time>" in texts and "a & b" in texts and "20 s" in texts


def test_a_reference_line_marks_the_limit() -> None:
    root = ET.fromstring(bar_chart("SLA", [("Tempeh", (50.0,))], limit=100.0))
    (line,) = root.iter(f"{SVG}line")
    assert float(line.attrib["x1"]) == 190 + 360


def test_log_scale_and_stacking_keep_every_chart() -> None:
    log = bar_chart("Throughput", [("relay", (5000.0,)), ("pipeline", (1.2,))], log=True)
    widths = [float(r.attrib["width"]) for r in ET.fromstring(log).iter(f"{SVG}rect")]
    assert widths[0] == 360.0 and 0 < widths[1] < 360.0 / 10  # linear would make it invisible
    both = ET.fromstring(stack("Bench", [log, bar_chart("Latency", [("p99", (1.5,))])]))
    inner = list(both.iter(f"{SVG}svg"))[1:]
    assert len(inner) == 2
    assert float(inner[1].attrib["y"]) > float(inner[0].attrib["y"])
