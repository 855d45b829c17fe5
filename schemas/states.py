"""The state machine of one application, driven by event types.

Each state-changing event type has one resulting state (:data:`EVENT_STATE`) and a set of
states it may occur in (:data:`OCCURS_IN`); together they are the allowed transitions.
Events that say nothing about an application's progress (stock levels, notifications, SLA
breaches) are not in these tables.

Two choices worth knowing:
- A correction is a new revision: ``sent_back`` --application.accepted--> ``accepted``.
- Activation needs the applicant, so it happens when they come to collect: the printed card
  goes to the front desk (``ready_for_collection``), is ``activated`` with the applicant's
  fingerprint, then ``collected`` against a signed receipt. A card that fails at any point
  after encoding is ``spoiled`` and queued again for a reprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class ApplicationState(StrEnum):
    SUBMITTED = "submitted"
    REFUSED_INCOMPLETE = "refused_incomplete"
    ACCEPTED = "accepted"
    SENT_BACK = "sent_back"
    VALIDATED = "validated"
    REJECTED = "rejected"
    AWAITING_BIOMETRICS = "awaiting_biometrics"
    BIOMETRICS_RECORDED = "biometrics_recorded"
    BIOMETRICS_SKIPPED = "biometrics_skipped"
    DUPLICATE_SUSPECTED = "duplicate_suspected"
    QUEUED_FOR_PRINTING = "queued_for_printing"
    WAITING_FOR_STOCK = "waiting_for_stock"
    TEMPORARY_CERTIFICATE_ISSUED = "temporary_certificate_issued"
    ENCODED = "encoded"
    PRINTED = "printed"
    SPOILED = "spoiled"
    READY_FOR_COLLECTION = "ready_for_collection"
    STORED_UNCOLLECTED = "stored_uncollected"
    ACTIVATED = "activated"
    COLLECTED = "collected"
    CANCELLED = "cancelled"


S = ApplicationState
INITIAL_STATE = S.SUBMITTED
TERMINAL_STATES = frozenset({S.REFUSED_INCOMPLETE, S.REJECTED, S.COLLECTED, S.CANCELLED})

# Until a chip is encoded the application can be withdrawn; afterwards a card exists.
CANCELLABLE_STATES = frozenset(
    {
        S.SUBMITTED,
        S.ACCEPTED,
        S.SENT_BACK,
        S.VALIDATED,
        S.AWAITING_BIOMETRICS,
        S.BIOMETRICS_RECORDED,
        S.BIOMETRICS_SKIPPED,
        S.DUPLICATE_SUSPECTED,
        S.QUEUED_FOR_PRINTING,
        S.WAITING_FOR_STOCK,
        S.TEMPORARY_CERTIFICATE_ISSUED,
    }
)

EVENT_STATE: Mapping[str, ApplicationState] = MappingProxyType(
    {
        "application.accepted": S.ACCEPTED,
        "application.refused": S.REFUSED_INCOMPLETE,
        "application.cancelled": S.CANCELLED,
        "application.validated": S.VALIDATED,
        "application.sent_back": S.SENT_BACK,
        "application.rejected": S.REJECTED,
        "biometrics.capture_queued": S.AWAITING_BIOMETRICS,
        "biometrics.recorded": S.BIOMETRICS_RECORDED,
        "biometrics.skipped": S.BIOMETRICS_SKIPPED,
        "biometrics.duplicate_suspected": S.DUPLICATE_SUSPECTED,
        "biometrics.duplicate_confirmed": S.REJECTED,
        "record.print_ready": S.QUEUED_FOR_PRINTING,
        "card.queued_for_printing": S.QUEUED_FOR_PRINTING,
        "card.waiting_for_stock": S.WAITING_FOR_STOCK,
        "certificate.issued": S.TEMPORARY_CERTIFICATE_ISSUED,
        "card.encoded": S.ENCODED,
        "card.printed": S.PRINTED,
        "card.spoiled": S.SPOILED,
        "card.ready_for_collection": S.READY_FOR_COLLECTION,
        "card.stored_uncollected": S.STORED_UNCOLLECTED,
        "card.activated": S.ACTIVATED,
        "card.collected": S.COLLECTED,
    }
)

# Biometrics recorded or skipped, or a suspected duplicate cleared by adjudication.
_BEFORE_PRINT_READY = frozenset(
    {S.BIOMETRICS_RECORDED, S.BIOMETRICS_SKIPPED, S.DUPLICATE_SUSPECTED}
)
# A reprint after spoilage, or blanks arrived (with or without a certificate issued).
_BEFORE_PRINT_QUEUE = frozenset({S.SPOILED, S.WAITING_FOR_STOCK, S.TEMPORARY_CERTIFICATE_ISSUED})
# From the print queue until collection a card (or its blank) may fail.
_SPOILABLE = frozenset(
    {S.QUEUED_FOR_PRINTING, S.ENCODED, S.PRINTED, S.READY_FOR_COLLECTION, S.STORED_UNCOLLECTED}
)

OCCURS_IN: Mapping[str, frozenset[ApplicationState]] = MappingProxyType(
    {
        "application.accepted": frozenset({S.SUBMITTED, S.SENT_BACK}),
        "application.refused": frozenset({S.SUBMITTED}),
        "application.cancelled": CANCELLABLE_STATES,
        "application.validated": frozenset({S.ACCEPTED}),
        "application.sent_back": frozenset({S.ACCEPTED}),
        "application.rejected": frozenset({S.ACCEPTED}),
        "biometrics.capture_queued": frozenset({S.VALIDATED}),
        "biometrics.recorded": frozenset({S.AWAITING_BIOMETRICS}),
        "biometrics.skipped": frozenset({S.VALIDATED}),
        "biometrics.duplicate_suspected": frozenset({S.BIOMETRICS_RECORDED}),
        "biometrics.duplicate_confirmed": frozenset({S.DUPLICATE_SUSPECTED}),
        "record.print_ready": _BEFORE_PRINT_READY,
        "card.queued_for_printing": _BEFORE_PRINT_QUEUE,
        "card.waiting_for_stock": frozenset({S.QUEUED_FOR_PRINTING}),
        "certificate.issued": frozenset({S.WAITING_FOR_STOCK}),
        "card.encoded": frozenset({S.QUEUED_FOR_PRINTING}),
        "card.printed": frozenset({S.ENCODED}),
        "card.spoiled": _SPOILABLE,
        "card.ready_for_collection": frozenset({S.PRINTED}),
        "card.stored_uncollected": frozenset({S.READY_FOR_COLLECTION}),
        "card.activated": frozenset({S.READY_FOR_COLLECTION, S.STORED_UNCOLLECTED}),
        "card.collected": frozenset({S.ACTIVATED}),
    }
)


class IllegalTransition(ValueError):
    def __init__(self, state: ApplicationState, event_type: str) -> None:
        allowed = ", ".join(sorted(allowed_events(state))) or "nothing (terminal state)"
        super().__init__(
            f"event {event_type!r} is not allowed in state {state.value!r}; "
            f"allowed there: {allowed}"
        )
        self.state = state
        self.event_type = event_type


class NotAStateEvent(ValueError):
    """The event type does not change an application's state (or is unknown)."""


def allowed_events(state: ApplicationState) -> dict[str, ApplicationState]:
    """Event types allowed in ``state``, each with the state it leads to."""
    return {event: EVENT_STATE[event] for event, sources in OCCURS_IN.items() if state in sources}


def next_state(state: ApplicationState, event_type: str) -> ApplicationState:
    """The state after ``event_type``; :class:`IllegalTransition` if not allowed in ``state``."""
    if event_type not in EVENT_STATE:
        raise NotAStateEvent(f"event {event_type!r} does not change an application's state")
    if state not in OCCURS_IN[event_type]:
        raise IllegalTransition(state, event_type)
    return EVENT_STATE[event_type]


def is_terminal(state: ApplicationState) -> bool:
    return state in TERMINAL_STATES
