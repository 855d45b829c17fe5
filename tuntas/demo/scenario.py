"""The demo day as a plan: who comes to which office, with what, and what happens to them.

Pure: the same seed and knobs give the same plan. The autopilot acts it out through the
staff APIs; nothing here touches the network.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from schemas.application import ApplicationType
from schemas.residents import RegistryPerson
from schemas.values import age_on
from simulators.registry import generate_registry

TEMPEH = "350805"
DEFAULT_KECAMATAN = (TEMPEH, "350804", "350806")  # Tempeh, Pasirian, Kunir

# Shares of the day's applicants (a kecamatan office's usual mix: mostly first cards).
TYPE_WEIGHTS = {ApplicationType.NEW: 60, ApplicationType.LOST: 25, ApplicationType.DAMAGED: 15}
INCOMPLETE_SHARE = 0.12  # come without a document, are refused at the desk, come back
TYPO_SHARE = 0.12  # the desk mistypes the name; the section head sends the file back
POOR_CAPTURE_SHARE = 0.15  # a finger needs a second capture
COLLECT_SHARE = 0.7  # collect the same day; the rest leave the card at the office
PHONE_SHARE = 0.85  # have a phone number for the SMS and the calls
TEMPEH_SHARE = 0.5  # Tempeh is the busiest office of the demo
STOCK_SHORTFALL = 0.6  # Tempeh's morning stock covers this share of its cards
MIN_FULL_DAY = 6  # from this many applicants an office shows every case at least once


@dataclass(frozen=True)
class Visitor:
    """One applicant of the day."""

    number: int  # 1.. within the kecamatan, for names like "350805-007"
    kecamatan: str
    resident: RegistryPerson
    application_type: ApplicationType
    arrival: float  # fraction of the office day, 0 = opening
    phone: str | None
    incomplete_first: bool
    name_typo: bool
    already_recorded: bool
    poor_capture: bool
    collects_today: bool

    @property
    def key(self) -> str:
        return f"{self.kecamatan}-{self.number:03d}"


@dataclass(frozen=True)
class Office:
    kecamatan: str
    registry: tuple[RegistryPerson, ...]
    visitors: tuple[Visitor, ...]
    morning_stock: int
    printer_stop_after: int | None  # the printer stops after this many printed cards (None: never)

    @property
    def cards(self) -> int:
        return len(self.visitors)


@dataclass(frozen=True)
class Plan:
    seed: int
    today: date
    offices: tuple[Office, ...]
    printer_stop_s: float = 15.0
    replenish_delay_s: float = 8.0  # from the run-out until the Dinas courier arrives
    knobs: dict[str, float] = field(default_factory=dict)

    @property
    def visitors(self) -> list[Visitor]:
        return [v for o in self.offices for v in o.visitors]

    def office(self, kecamatan: str) -> Office:
        return next(o for o in self.offices if o.kecamatan == kecamatan)


def split(total: int, kecamatan: Sequence[str], *, even: bool = False) -> dict[str, int]:
    """Tempeh (if present, and not ``even``) takes ``TEMPEH_SHARE``; the others share the rest
    evenly. ``even``: every office alike (the chaos day: one office's single card station
    with half of 2,000 cards was the whole day's critical path)."""
    if len(kecamatan) == 1:
        return {kecamatan[0]: total}
    counts = dict.fromkeys(kecamatan, 0)
    rest = list(kecamatan)
    if TEMPEH in counts and not even:
        counts[TEMPEH] = round(total * TEMPEH_SHARE)
        rest.remove(TEMPEH)
    left = total - sum(counts.values())
    for i, code in enumerate(rest):
        counts[code] = left // len(rest) + (1 if i < left % len(rest) else 0)
    return counts


def _phone(rng: random.Random) -> str:
    return f"+628{rng.choice('1235')}{rng.randint(10**8, 10**9 - 1)}"


def _office(code: str, count: int, rng: random.Random, seed: int, today: date) -> Office:
    families = max(40, count * 2)
    registry = tuple(generate_registry(code, families, seed=seed, today=today))
    # First cards go to those who recently turned 17; replacements to older adults.
    # (only NIKs issued here: one registered elsewhere could repeat in another office's sample)
    local = [p for p in registry if p.nik.startswith(code)]
    young = [p for p in local if 17 <= age_on(p.birth_date, today) <= 21]
    older = [p for p in local if age_on(p.birth_date, today) > 21]
    rng.shuffle(young)
    rng.shuffle(older)
    types = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()), k=count)
    incomplete = [rng.random() < INCOMPLETE_SHARE for _ in range(count)]
    typo = [rng.random() < TYPO_SHARE for _ in range(count)]
    collects = [rng.random() < COLLECT_SHARE for _ in range(count)]
    phone = [rng.random() < PHONE_SHARE for _ in range(count)]
    if count >= MIN_FULL_DAY:  # even a small day shows every case once
        if all(t is ApplicationType.NEW for t in types):
            types[rng.randrange(count)] = ApplicationType.LOST
        for flags, value in ((incomplete, True), (typo, True), (collects, True), (collects, False)):
            if value not in flags:
                flags[rng.randrange(count)] = value
        left = [i for i in range(count) if not collects[i]]
        if not any(phone[i] for i in left):
            phone[left[0]] = True  # someone to send the reminder to and call
    visitors: list[Visitor] = []
    for i, kind in enumerate(types):
        pool = young if kind is ApplicationType.NEW and young else older
        if not pool:
            raise ValueError(f"kecamatan {code}: too few adults for {count} applicants")
        resident = pool.pop()
        replacement = kind is not ApplicationType.NEW
        visitors.append(
            Visitor(
                number=i + 1,
                kecamatan=code,
                resident=resident,
                application_type=kind,
                arrival=rng.random() * 0.6,  # the queue forms in the morning
                phone=_phone(rng) if phone[i] else None,
                incomplete_first=incomplete[i],
                name_typo=typo[i],
                already_recorded=replacement,  # a lost or damaged card was recorded before
                poor_capture=not replacement and rng.random() < POOR_CAPTURE_SHARE,
                collects_today=collects[i],
            )
        )
    visitors.sort(key=lambda v: v.arrival)
    short = code == TEMPEH and count >= MIN_FULL_DAY
    return Office(
        kecamatan=code,
        registry=registry,
        visitors=tuple(visitors),
        morning_stock=max(1, int(count * STOCK_SHORTFALL)) if short else count + 10,
        printer_stop_after=max(1, count // 4) if short else None,
    )


def plan_day(
    applicants: int,
    kecamatan: Sequence[str] = DEFAULT_KECAMATAN,
    *,
    seed: int,
    today: date,
    even: bool = False,
) -> Plan:
    if applicants < len(kecamatan):
        raise ValueError(f"--applicants {applicants}: at least one per kecamatan is needed")
    rng = random.Random(seed)
    offices = tuple(
        _office(code, count, rng, seed + i, today)
        for i, (code, count) in enumerate(split(applicants, kecamatan, even=even).items())
    )
    return Plan(seed=seed, today=today, offices=offices)
