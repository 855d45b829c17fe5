"""One recording session: every item captured through the quality gate, or an exception.

The devices are the only I/O here; the rules come from `quality`. Image checks and template
extraction are CPU work: they run in the stage's process pool (both cores; threads would
share one interpreter lock), or in threads when the stage runs without one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass

from services.biometric import quality
from services.biometric.items import ALL_ITEMS, Capture, Finger, finger_of
from services.biometric.templates import template_of


class CaptureFailed(Exception):
    """A mandatory item (face, signature) failed every attempt: the session cannot finish."""

    def __init__(self, item: str, findings: list[quality.Finding]) -> None:
        super().__init__(f"{item}: " + "; ".join(f"{f.code}: {f.detail}" for f in findings))
        self.item = item
        self.findings = findings


@dataclass(frozen=True)
class Enrolment:
    captures: tuple[Capture, ...]  # accepted captures only
    templates: Mapping[Finger, bytes]  # one per accepted finger
    exceptions: tuple[quality.CaptureException, ...]
    attempts: Mapping[str, int]  # item → captures taken (0 for declared exceptions)


Take = Callable[[str], Awaitable[Capture | None]]  # one capture of an item; None: nothing seen


async def enrol(
    take: Take,
    policy: quality.QualityPolicy,
    declared: Mapping[Finger, quality.ExceptionReason] | None = None,
    pool: Executor | None = None,
) -> Enrolment:
    """Capture the full set. `declared`: fingers the operator saw missing or bandaged; they
    are recorded as exceptions without asking the scanner. `pool`: where the image work runs
    (None: the event loop's default thread pool)."""
    declared = declared or {}
    loop = asyncio.get_running_loop()
    captures: list[Capture] = []
    exceptions: list[quality.CaptureException] = []
    attempts: dict[str, int] = {}
    templates: dict[Finger, bytes] = {}

    declared_items = {f.item: reason for f, reason in declared.items()}
    for item in ALL_ITEMS:
        if item in declared_items:
            exceptions.append(quality.CaptureException(item, declared_items[item], attempts=0))
            attempts[item] = 0
            continue
        attempt = 0
        while True:
            attempt += 1
            capture = await take(item)
            findings, template = await loop.run_in_executor(
                pool, check_and_extract, item, capture, policy
            )
            action = quality.next_action(findings, attempt, policy)
            if action is quality.Action.ACCEPT:
                assert capture is not None  # no findings ⇒ something was captured
                captures.append(capture)
                if (finger := finger_of(item)) is not None and template is not None:
                    templates[finger] = template
                break
            if action is quality.Action.GIVE_UP:
                if not quality.may_be_excepted(item):
                    raise CaptureFailed(item, findings)
                exceptions.append(
                    quality.CaptureException(item, quality.ExceptionReason.UNREADABLE, attempt)
                )
                break
        attempts[item] = attempt

    ordered = {f: templates[f] for f in Finger if f in templates}
    return Enrolment(tuple(captures), ordered, tuple(exceptions), attempts)


def check_and_extract(
    item: str, capture: Capture | None, policy: quality.QualityPolicy
) -> tuple[list[quality.Finding], bytes | None]:
    """One capture's image work, in one pool task: its quality findings and, for a finger that
    passed, its template, from a single decoding of the image."""
    findings, image = quality.inspect(item, capture, policy)
    if findings or image is None or finger_of(item) is None:
        return findings, None
    return findings, template_of(image)
