"""Region reference data (Kepmendagri codes), loaded from replaceable CSV files.

The packaged file covers Kabupaten Lumajang (:func:`lumajang`); a fuller national list in the
same format loads with :func:`load_regions`. Format: ``code,level,name,verified`` with dotted
or plain codes, ``#`` comment lines allowed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from schemas.values import RegionLevel, dotted, parse_region_code

_COLUMNS = ("code", "level", "name", "verified")


@dataclass(frozen=True)
class Region:
    code: str  # digits only
    level: RegionLevel
    name: str
    verified: bool

    @property
    def dotted(self) -> str:
        return dotted(self.code)


@dataclass(frozen=True)
class Regions:
    by_code: Mapping[str, Region]

    def get(self, code: str, level: RegionLevel) -> Region | None:
        """The region with this code (dotted or plain) at this level, if listed."""
        return self.by_code.get(parse_region_code(code, level))

    def children(self, code: str, level: RegionLevel) -> list[Region]:
        """Regions directly below ``code`` (e.g. the kecamatan of a kabupaten), by code."""
        parent = parse_region_code(code, level)
        return sorted(
            (
                r
                for r in self.by_code.values()
                if r.code.startswith(parent) and len(r.code) == _child_length(level)
            ),
            key=lambda r: r.code,
        )


def _child_length(level: RegionLevel) -> int:
    return {RegionLevel.PROVINCE: 4, RegionLevel.KABUPATEN: 6, RegionLevel.KECAMATAN: 10}.get(
        level, 0
    )


def parse_regions(lines: Iterable[str]) -> Regions:
    """Parse the CSV format; errors name the line number."""
    rows = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.reader(rows)
    header = tuple(next(reader, ()))
    if header != _COLUMNS:
        raise ValueError(f"region file header must be {','.join(_COLUMNS)}")
    found: dict[str, Region] = {}
    for number, row in enumerate(reader, start=2):
        try:
            code, level_text, name, verified = row
            level = RegionLevel(level_text)
            region = Region(
                parse_region_code(code, level), level, name.strip(), verified.strip() == "yes"
            )
        except ValueError as e:
            raise ValueError(f"region data row {number}: {e}") from None
        if region.code in found:
            raise ValueError(f"region data row {number}: duplicate code {code}")
        found[region.code] = region
    return Regions(found)


def load_regions(path: Path) -> Regions:
    with path.open(encoding="utf-8") as f:
        return parse_regions(f)


@cache
def lumajang() -> Regions:
    """Kabupaten Lumajang (35.08) and its 21 kecamatan, as shipped in ``schemas/reference``."""
    text = (
        resources.files("schemas")
        .joinpath("reference/regions_lumajang.csv")
        .read_text(encoding="utf-8")
    )
    return parse_regions(text.splitlines())
