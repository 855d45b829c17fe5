import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.events import EVENT_TYPES
from schemas.states import (
    EVENT_STATE,
    INITIAL_STATE,
    OCCURS_IN,
    TERMINAL_STATES,
    ApplicationState,
    IllegalTransition,
    NotAStateEvent,
    allowed_events,
    is_terminal,
    next_state,
)

S = ApplicationState

HAPPY_PATH = [
    ("application.accepted", S.ACCEPTED),
    ("application.validated", S.VALIDATED),
    ("biometrics.capture_queued", S.AWAITING_BIOMETRICS),
    ("biometrics.recorded", S.BIOMETRICS_RECORDED),
    ("record.print_ready", S.QUEUED_FOR_PRINTING),
    ("card.encoded", S.ENCODED),
    ("card.printed", S.PRINTED),
    ("card.ready_for_collection", S.READY_FOR_COLLECTION),
    ("card.activated", S.ACTIVATED),
    ("card.collected", S.COLLECTED),
]


def run(events: list[str], state: ApplicationState = INITIAL_STATE) -> ApplicationState:
    for event in events:
        state = next_state(state, event)
    return state


def test_happy_path() -> None:
    state = INITIAL_STATE
    for event, expected in HAPPY_PATH:
        state = next_state(state, event)
        assert state is expected


def test_correction_loop_is_a_new_revision_of_accepted() -> None:
    state = run(
        [
            "application.accepted",
            "application.sent_back",
            "application.accepted",
            "application.validated",
        ]
    )
    assert state is S.VALIDATED


def test_reprint_after_spoilage_and_stock_loop_with_certificate() -> None:
    assert (
        run(
            [
                "card.waiting_for_stock",
                "certificate.issued",
                "card.queued_for_printing",
                "card.encoded",
                "card.spoiled",
                "card.queued_for_printing",
                "card.encoded",
            ],
            S.QUEUED_FOR_PRINTING,
        )
        is S.ENCODED
    )
    assert (
        run(["card.waiting_for_stock", "card.queued_for_printing"], S.QUEUED_FOR_PRINTING)
        is S.QUEUED_FOR_PRINTING
    )


def test_skip_duplicate_and_uncollected_paths() -> None:
    assert run(["biometrics.skipped", "record.print_ready"], S.VALIDATED) is S.QUEUED_FOR_PRINTING
    assert (
        run(
            ["biometrics.duplicate_suspected", "biometrics.duplicate_confirmed"],
            S.BIOMETRICS_RECORDED,
        )
        is S.REJECTED
    )
    assert (
        run(["biometrics.duplicate_suspected", "record.print_ready"], S.BIOMETRICS_RECORDED)
        is S.QUEUED_FOR_PRINTING
    )
    assert (
        run(["card.stored_uncollected", "card.activated", "card.collected"], S.READY_FOR_COLLECTION)
        is S.COLLECTED
    )


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.SUBMITTED, "application.validated"),
        (S.SENT_BACK, "application.validated"),
        (S.SPOILED, "record.print_ready"),  # a reprint is card.queued_for_printing
        (S.QUEUED_FOR_PRINTING, "card.printed"),  # encode first
        (S.PRINTED, "card.collected"),  # activate first
        (S.ENCODED, "application.cancelled"),  # a card exists now
        (S.COLLECTED, "card.spoiled"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_error(
    state: ApplicationState, event: str
) -> None:
    with pytest.raises(IllegalTransition, match=f"{event!r} is not allowed in state"):
        next_state(state, event)


def test_error_lists_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as e:
        next_state(S.SENT_BACK, "card.encoded")
    assert "application.accepted, application.cancelled" in str(e.value)


def test_events_that_do_not_change_state() -> None:
    for event in ("stock.low", "notification.sent", "sla.breached", "no.such.event"):
        with pytest.raises(NotAStateEvent):
            next_state(S.ACCEPTED, event)


def test_tables_are_consistent_with_the_registry() -> None:
    assert EVENT_STATE.keys() == OCCURS_IN.keys()
    assert set(EVENT_STATE) <= set(EVENT_TYPES)
    for event, target in EVENT_STATE.items():
        assert OCCURS_IN[event], event
        assert not OCCURS_IN[event] & TERMINAL_STATES, f"{event} leaves a terminal state"
        assert target is not INITIAL_STATE


def _reachable() -> set[ApplicationState]:
    seen, todo = {INITIAL_STATE}, [INITIAL_STATE]
    while todo:
        for target in allowed_events(todo.pop()).values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_state_is_reachable_and_every_non_terminal_state_can_finish() -> None:
    assert _reachable() == set(ApplicationState)
    for state in ApplicationState:
        seen, todo = {state}, [state]
        while todo:
            for target in allowed_events(todo.pop()).values():
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        assert seen & TERMINAL_STATES, f"{state} can never finish"


def test_terminal_states_accept_nothing() -> None:
    for state in TERMINAL_STATES:
        assert is_terminal(state)
        assert allowed_events(state) == {}


@given(st.lists(st.sampled_from(sorted(EVENT_STATE)), max_size=60))
def test_random_event_sequences_only_follow_legal_paths(events: list[str]) -> None:
    state = INITIAL_STATE
    path = [state]
    for event in events:
        try:
            new = next_state(state, event)
        except IllegalTransition:
            assert state not in OCCURS_IN[event]
            continue
        assert state in OCCURS_IN[event] and new is EVENT_STATE[event]
        assert not is_terminal(state), "a terminal state accepted an event"
        path.append(new)
        state = new
    # Every step of the accepted path is an allowed edge, from the initial state.
    for a, b in itertools.pairwise(path):
        assert b in allowed_events(a).values()
    if is_terminal(state):
        for event in EVENT_STATE:
            with pytest.raises(IllegalTransition):
                next_state(state, event)
