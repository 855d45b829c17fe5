"""The demo day's plan: deterministic per seed, every case present, Tempeh first and busiest."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.application import ApplicationType
from schemas.values import age_on
from tuntas.demo.autopilot import _typo, application_file
from tuntas.demo.scenario import DEFAULT_KECAMATAN, TEMPEH, plan_day, split

TODAY = date(2026, 11, 24)


def test_same_seed_same_day_and_another_seed_another_day() -> None:
    a = plan_day(30, seed=5, today=TODAY)
    b = plan_day(30, seed=5, today=TODAY)
    c = plan_day(30, seed=6, today=TODAY)
    assert a == b
    assert [v.resident.nik for v in a.visitors] != [v.resident.nik for v in c.visitors]


@pytest.mark.parametrize("seed", range(12))
def test_every_office_of_six_or_more_shows_every_case(seed: int) -> None:
    plan = plan_day(24, DEFAULT_KECAMATAN, seed=seed, today=TODAY)
    for office in plan.offices:
        v = office.visitors
        assert len(v) >= 6
        assert any(x.incomplete_first for x in v)
        assert any(x.name_typo for x in v)
        assert any(x.already_recorded for x in v)
        assert any(x.collects_today for x in v)
        assert any(not x.collects_today and x.phone for x in v)
    tempeh = plan.office(TEMPEH)
    assert tempeh.morning_stock < tempeh.cards  # the stock runs out
    assert tempeh.printer_stop_after is not None


def test_applicants_are_eligible_distinct_residents_of_their_office() -> None:
    plan = plan_day(40, seed=1, today=TODAY)
    niks = [v.resident.nik for v in plan.visitors]
    assert len(set(niks)) == len(niks)
    for v in plan.visitors:
        assert v.resident.nik.startswith(v.kecamatan)
        assert age_on(v.resident.birth_date, TODAY) >= 17
        assert v.already_recorded == (v.application_type is not ApplicationType.NEW)


def test_tempeh_is_first_and_takes_half() -> None:
    assert split(60, DEFAULT_KECAMATAN) == {TEMPEH: 30, "350804": 15, "350806": 15}
    assert split(7, (TEMPEH, "350804")) == {TEMPEH: 4, "350804": 3}
    with pytest.raises(ValueError, match="at least one per kecamatan"):
        plan_day(2, DEFAULT_KECAMATAN, seed=1, today=TODAY)


def test_an_incomplete_file_lacks_the_document_of_its_kind_and_a_typo_changes_the_name() -> None:
    plan = plan_day(30, seed=3, today=TODAY)
    for v in plan.visitors:
        complete = application_file(v, complete=True, typo=False)["documents"]
        short = application_file(v, complete=False, typo=False)["documents"]
        assert len(short) == len(complete) - 1
    assert _typo("Siti Aminah") != "Siti Aminah"
    assert sorted(_typo("Siti Aminah")) == sorted("Siti Aminah")


def test_an_even_day_gives_every_office_alike() -> None:
    five = ("350805", "350804", "350806", "350801", "350802")
    assert split(2000, five)["350805"] == 1000  # the demo's busiest office
    assert split(2000, five, even=True) == dict.fromkeys(five, 400)
    assert sum(split(2003, five, even=True).values()) == 2003
