"""The status timeline of one application and its SLA, as plain JSON-able dicts (pure).

The faust table in :mod:`services.notification.timeline` holds one of these per application;
everything here is a function of the events seen, so the state rebuilds from the topics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.envelope import Envelope
from schemas.events import SlaBreached
from schemas.states import EVENT_STATE, ApplicationState

Timeline = dict[str, Any]
DeadlineFor = Callable[[str, datetime], datetime]  # (kecamatan, accepted_at) -> deadline

# The application ended without a card: nothing is owed any more.
ENDING = frozenset(
    {
        "application.refused",
        "application.cancelled",
        "application.rejected",
        "biometrics.duplicate_confirmed",
    }
)
READY = frozenset({"card.ready_for_collection", "card.collected"})
MAX_EVENTS = 100  # a timeline keeps its latest events only


def apply(tl: Timeline | None, event: Envelope, deadline_for: DeadlineFor) -> Timeline:
    """The timeline after ``event``."""
    tl = (
        dict(tl)
        if tl
        else {
            "kecamatan": event.kecamatan,
            "events": [],
            "accepted_at": None,
            "deadline": None,
            "ready_at": None,
            "ended": False,
            "breached_for": [],
            "state": None,
        }
    )
    at = event.occurred_at.isoformat()
    if event.type == "sla.breached":
        assert isinstance(event.payload, SlaBreached)
        done = set(tl["breached_for"]) | {event.payload.deadline.isoformat()}
        tl["breached_for"] = sorted(done)
        return tl
    if event.type.startswith("notification."):
        return tl
    tl["events"] = [*tl["events"], [event.type, at]][-MAX_EVENTS:]
    state = EVENT_STATE.get(event.type)
    if state is not None:
        tl["state"] = state.value
    if event.type == "application.accepted":
        # A corrected file is declared complete again: the clock restarts.
        tl["accepted_at"] = at
        tl["deadline"] = deadline_for(event.kecamatan, event.occurred_at).isoformat()
        # Topics are not ordered among each other: a ready event folded earlier but
        # occurring later than this acceptance still counts.
        if tl["ready_at"] and datetime.fromisoformat(tl["ready_at"]) < event.occurred_at:
            tl["ready_at"] = None
        tl["ended"] = False
    elif event.type in READY and tl["ready_at"] is None:
        tl["ready_at"] = at
    elif event.type in ENDING:
        tl["ended"] = True
    return tl


def is_breached(tl: Timeline, now: datetime) -> bool:
    """Past its deadline without a ready card, and not yet reported for this deadline."""
    return (
        tl["deadline"] is not None
        and tl["ready_at"] is None
        and not tl["ended"]
        and now > datetime.fromisoformat(tl["deadline"])
        and tl["deadline"] not in tl["breached_for"]
    )


def breach_event(application_id: str, tl: Timeline) -> Envelope:
    """The ``sla.breached`` event; its message id is derived from (application, deadline), so a
    repeat (after a crash before it was read back) is dropped by every consumer's inbox."""
    deadline = datetime.fromisoformat(tl["deadline"])
    state = ApplicationState(tl["state"]) if tl["state"] else ApplicationState.ACCEPTED
    return Envelope.new(
        SlaBreached(deadline=deadline, state=state),
        application_id=UUID(application_id),
        kecamatan=tl["kecamatan"],
        message_id=uuid5(NAMESPACE_URL, f"tuntas:sla.breached:{application_id}:{tl['deadline']}"),
    )


def classify(tl: Timeline, now: datetime) -> str | None:
    """``open`` (deadline ahead), ``on_time``, ``late``; None when there is no clock."""
    if tl["deadline"] is None or (tl["ended"] and tl["ready_at"] is None):
        return None
    deadline = datetime.fromisoformat(tl["deadline"])
    if tl["ready_at"] is not None:
        return "on_time" if datetime.fromisoformat(tl["ready_at"]) <= deadline else "late"
    return "open" if now <= deadline else "late"


def counts(
    timelines: Iterable[Timeline], now: datetime, kecamatan: str | None = None
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for tl in timelines:
        if kecamatan is not None and tl["kecamatan"] != kecamatan:
            continue
        kind = classify(tl, now)
        if kind is None:
            continue
        row = out.setdefault(tl["kecamatan"], {"open": 0, "on_time": 0, "late": 0})
        row[kind] += 1
    return out
