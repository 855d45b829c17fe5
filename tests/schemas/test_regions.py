from pathlib import Path

import pytest

from schemas.regions import load_regions, lumajang, parse_regions
from schemas.values import RegionLevel


def test_lumajang_has_its_21_kecamatan() -> None:
    regions = lumajang()
    kecamatan = regions.children("35.08", RegionLevel.KABUPATEN)
    assert len(kecamatan) == 21
    assert [k.code for k in kecamatan] == [f"3508{n:02d}" for n in range(1, 22)]
    tempeh = regions.get("35.08.05", RegionLevel.KECAMATAN)
    assert tempeh is not None and (tempeh.name, tempeh.verified, tempeh.dotted) == (
        "Tempeh",
        True,
        "35.08.05",
    )
    kabupaten = regions.get("3508", RegionLevel.KABUPATEN)
    assert kabupaten is not None and kabupaten.name == "Lumajang"
    assert regions.get("35.08.22", RegionLevel.KECAMATAN) is None
    assert [r.code for r in regions.children("35", RegionLevel.PROVINCE)] == ["3508"]


def test_a_fuller_list_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(
        "# national list\ncode,level,name,verified\n"
        "35.78,kabupaten,Kota Surabaya,yes\n357801,kecamatan,Karang Pilang,no\n",
        encoding="utf-8",
    )
    regions = load_regions(path)
    found = regions.get("35.78.01", RegionLevel.KECAMATAN)
    assert found is not None and found.name == "Karang Pilang" and not found.verified


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("code,name\n35,Jawa Timur\n", "header must be"),
        ("code,level,name,verified\n35.08.00,kecamatan,X,no\n", "row 2: kecamatan code"),
        ("code,level,name,verified\n35,planet,X,no\n", "row 2"),
        ("code,level,name,verified\n35,province,X,no\n35,province,Y,no\n", "row 3: duplicate"),
        ("code,level,name,verified\n35,province,X\n", "row 2"),
    ],
)
def test_bad_region_data_names_the_row(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_regions(text.splitlines())
