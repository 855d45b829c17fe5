"""The simulated national export renders in several processes and writes the same lines, in
the same order, as one process does."""

from __future__ import annotations

from pathlib import Path

from simulators.capture.earlier import write_export

NIKS = ("3508051203900002", "3508055507850001", "3508051203900003")


def test_the_export_written_by_two_processes_is_the_one_written_by_one(tmp_path: Path) -> None:
    alone, shared = tmp_path / "alone.jsonl", tmp_path / "shared.jsonl"
    assert write_export(NIKS, alone) == write_export(NIKS, shared, workers=2) == 3
    assert shared.read_text() == alone.read_text()
    lines = shared.read_text().splitlines()
    assert [
        line.startswith(f'{{"nik": "{nik}"') for line, nik in zip(lines, NIKS, strict=True)
    ] == [True] * len(NIKS)
