"""The biometric stage's work, in the order one application meets it: validated (queued for
recording, or skipped when the NIK is already recorded) → captured through the station's
devices (quality gates, encrypted store, then insert + identify requests to the ABIS:
dedupe pending) → the ABIS's answer: print ready, or a duplicate case an officer decides; a
cancellation takes it off the queues. The automatic operator of the demo/benchmark mode is at
the end.

Every state change is written with its events in one transaction (outbox and status history),
then the relay is woken. Matching and image work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from schemas import events
from schemas.envelope import Envelope
from schemas.topics import Topics
from services.biometric import rules, store
from services.biometric.crypto import MasterKeyring
from services.biometric.devices import CaptureDevices
from services.biometric.enrolment import enrol
from services.biometric.items import Finger, finger_of
from services.biometric.quality import ExceptionReason, QualityPolicy
from services.biometric.rules import Decision, State
from services.biometric.store import Application
from services.runtime import outbox, status
from services.runtime.db import Conn, in_scope
from services.runtime.errors import is_transient
from services.runtime.logs import bind
from services.runtime.messages import Emit, PoisonMessage
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.biometric")


class NotFoundError(Exception):
    pass


class ConflictError(Exception):
    """The item is not in a state that allows the action (already done, or in progress)."""


@dataclass(frozen=True)
class CaptureOrder:
    operator_id: str
    declared: Mapping[Finger, ExceptionReason] = field(default_factory=dict)


@dataclass
class Stage:
    """What the handlers, the HTTP API and the automatic operator share."""

    topics: Topics
    keyring: MasterKeyring
    policy: QualityPolicy
    chip_fingers: tuple[Finger, ...]
    devices: CaptureDevices
    abis_target_fpir: float = 0.001
    abis_max_results: int = 10
    public_url: str = ""  # where the ABIS fetches references; empty: this process's port
    abis_clients: frozenset[str] = frozenset()  # token usernames that may fetch references
    pool: Executor | None = None  # image checks and template extraction (None: threads)
    auto_operator_id: str = "auto.operator"
    auto_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    capturing: set[uuid.UUID] = field(default_factory=set)  # in this process, right now

    def reference_url(self, runtime: Runtime, record_id: uuid.UUID) -> str:
        """Where the ABIS fetches this record's dedupe fingers (``api/references.py``)."""
        base = self.public_url.rstrip("/") or f"http://127.0.0.1:{runtime.extra['http_port']}"
        return f"{base}/abis/references/{record_id}"

    def emit(self, envelope: Envelope) -> Emit:
        return Emit(self.topics.for_event(envelope.type, envelope.kecamatan), envelope)


@dataclass(frozen=True)
class Recorded:
    application_id: uuid.UUID
    record_id: uuid.UUID
    state: State
    fingerprints_captured: int
    exceptions: Sequence[tuple[str, str, int]]  # (item, reason, attempts)
    attempts: Mapping[str, int]


def _event(app: Application, payload: events.EventPayload) -> Envelope:
    return Envelope.new(
        payload,
        application_id=app.application_id,
        kecamatan=app.kecamatan,
        causation_id=app.validated_message_id,
    )


def _print_ready(app: Application, checks: rules.ClaimChecks) -> events.RecordPrintReady:
    return events.RecordPrintReady(
        tracking_number=app.tracking_number,
        application_type=app.application_type,
        priority=rules.priority(app.application_type),
        card=app.validated.applicant.card_face(),
        photo=checks.photo,
        signature=checks.signature,
        fingerprint_templates=checks.fingerprint_templates,
    )


async def _claim_checks(
    conn: Conn, saved: store.SavedRecord, chip_fingers: Sequence[Finger]
) -> rules.ClaimChecks:
    items, templates = await store.digests(conn, saved.record_id)
    return rules.claim_checks(saved.reference, items, templates, chip_fingers)


async def _commit(conn: Conn, stage: Stage, envelopes: Sequence[Envelope]) -> None:
    await outbox.enqueue(conn, [stage.emit(e) for e in envelopes])
    await status.record(conn, status.transitions(None, envelopes))


# ---------------------------------------------------------------- validated: queue or skip


async def validated(
    stage: Stage, event: Envelope, payload: events.ApplicationValidated, conn: Conn
) -> Sequence[Emit]:
    """Queue the applicant for recording, or reuse the NIK's record straight to print."""
    if await store.application_exists(conn, event.application_id):
        log.warning(
            "application %s validated again: already handled, ignored", event.application_id
        )
        return []
    existing = await store.record_for_nik(conn, payload.applicant.nik)
    if existing is not None and await store.record_blocked(conn, existing.record_id):
        # Reusing it would print a card for a suspected or confirmed second identity. No event
        # expresses "held for adjudication" from here: an operator takes it from the DLQ.
        raise PoisonMessage(
            f"the NIK's biometric record {existing.record_id} is a suspected or confirmed"
            " duplicate: not reused for printing; decide the adjudication case first"
        )
    await store.insert_application(
        conn,
        application_id=event.application_id,
        kecamatan=event.kecamatan,
        validated=payload,
        validated_message_id=event.message_id,
        state=State.QUEUED if existing is None else State.PRINT_READY,
        record_id=None if existing is None else existing.record_id,
        skipped=existing is not None,
    )
    if existing is not None:
        app = await store.get_application(conn, event.application_id)
        assert app is not None
        checks = await _claim_checks(conn, existing, stage.chip_fingers)
        skipped = events.BiometricsSkipped(existing_record=checks.record)
        ready = _print_ready(app, checks)
        log.info(
            "application %s: already recorded (record %s): biometrics skipped, print ready",
            event.application_id,
            existing.record_id,
        )
        return [stage.emit(event.caused(skipped)), stage.emit(event.caused(ready))]
    stage.auto_wakeup.set()
    log.info(
        "application %s queued for recording in kecamatan %s", event.application_id, event.kecamatan
    )
    return [stage.emit(event.caused(events.BiometricsCaptureQueued()))]


# ---------------------------------------------------------------- capture


async def capture(
    runtime: Runtime, stage: Stage, application_id: uuid.UUID, order: CaptureOrder
) -> Recorded:
    """Record one queued applicant. Raises NotFoundError, ConflictError,
    ``enrolment.CaptureFailed`` (a mandatory item failed every attempt) or
    ``devices.DeviceError`` (the station's devices did not answer); nothing is stored then."""
    if application_id in stage.capturing:
        raise ConflictError("a capture of this application is already in progress")
    stage.capturing.add(application_id)
    try:
        with bind(application_id=str(application_id)):
            return await _capture(runtime, stage, application_id, order)
    finally:
        stage.capturing.discard(application_id)


async def _capture(
    runtime: Runtime, stage: Stage, application_id: uuid.UUID, order: CaptureOrder
) -> Recorded:
    # Every kecamatan, on purpose: the route's lookup ran in the operator's scope first (the
    # automatic operator is the service), and "already recorded" is a rule across offices.
    async with in_scope(runtime.pool, None) as conn:
        app = await store.get_application(conn, application_id)
    _check_queued(app)
    assert app is not None
    # one device transaction per session: the station's logs tie its captures together
    take = partial(stage.devices.capture, app.kecamatan, f"{application_id}.{uuid.uuid4().hex[:8]}")
    enrolment = await enrol(take, stage.policy, dict(order.declared), stage.pool)
    recaptures = sum(max(0, n - 1) for n in enrolment.attempts.values())

    async with in_scope(runtime.pool, None) as conn:  # as above
        app = await store.get_application(conn, application_id, lock=True)
        _check_queued(app)
        assert app is not None
        try:
            saved = await store.save_record(
                conn,
                stage.keyring,
                nik=app.nik,
                kecamatan=app.kecamatan,
                enrolment=enrolment,
                captured_at=datetime.now(UTC),
            )
        except store.AlreadyRecorded:
            raise ConflictError(
                "this NIK was recorded meanwhile (by another application): nothing stored"
            ) from None
        checks = await _claim_checks(conn, saved, stage.chip_fingers)
        fingers = sum(1 for c in enrolment.captures if finger_of(c.item) is not None)
        recorded = _event(
            app,
            events.BiometricsRecorded(
                record=checks.record,
                fingerprints_captured=fingers,
                iris_captured=any(c.item.startswith("iris.") for c in enrolment.captures),
                face_captured=True,  # mandatory: enrol raises otherwise
                signature_captured=True,
                operator_id=order.operator_id,
            ),
        )
        record_id = saved.record_id
        requests = rules.dedupe_requests(
            record_id,
            stage.reference_url(runtime, record_id),
            stage.abis_target_fpir,
            stage.abis_max_results,
        )
        await store.set_state(
            conn,
            app.application_id,
            State.DEDUPE_PENDING,
            record_id=record_id,
            operator_id=order.operator_id,
        )
        await _commit(conn, stage, [recorded, *(_event(app, r) for r in requests)])
    runtime.relay.wake()
    log.info(
        "recorded application %s in kecamatan %s: record %s, %d fingerprints, %d exceptions,"
        " %d re-captures; 1:N dedupe asked of the ABIS",
        app.application_id,
        app.kecamatan,
        saved.record_id,
        fingers,
        len(enrolment.exceptions),
        recaptures,
    )
    return Recorded(
        application_id=app.application_id,
        record_id=saved.record_id,
        state=State.DEDUPE_PENDING,
        fingerprints_captured=fingers,
        exceptions=[(e.item, e.reason.value, e.attempts) for e in enrolment.exceptions],
        attempts=dict(enrolment.attempts),
    )


def _check_queued(app: Application | None) -> None:
    if app is None:
        raise NotFoundError("no such application in the biometric stage")
    if app.state is not State.QUEUED:
        raise ConflictError(f"application is {app.state.value}, not queued for recording")


# ---------------------------------------------------------------- the ABIS's answer


async def abis_responded(
    stage: Stage, event: Envelope, answer: events.AbisResponded, conn: Conn
) -> Sequence[Emit]:
    """An identify answer continues its application: no candidate ⇒ print ready; candidates
    ⇒ an adjudication case. Insert answers only matter when they failed (the identify after
    them fails too, and says so)."""
    if answer.operation is not events.AbisOperation.IDENTIFY:
        if not answer.succeeded:
            log.warning(
                "ABIS %s %s failed: %s", answer.operation.value, answer.request_id,
                answer.failure_reason,
            )  # fmt: skip
        return []
    assert answer.reference_id is not None  # identify names its reference
    app = await store.awaiting_dedupe(conn, answer.reference_id)
    if app is None:  # answered before (redelivery), or cancelled meanwhile
        log.info("ABIS answer for record %s: no application awaits it", answer.reference_id)
        return []
    if not answer.succeeded:
        # No event says "the ABIS could not search": an operator takes it from the DLQ (and
        # replays it once the ABIS holds the reference again).
        raise PoisonMessage(
            f"the ABIS could not identify record {answer.reference_id}: {answer.failure_reason}"
        )
    if answer.candidates:
        case_id = f"dup-{uuid.uuid4().hex[:20]}"
        found = await store.kecamatan_of(conn, [c.reference_id for c in answer.candidates])
        await store.open_case(
            conn,
            case_id=case_id,
            application_id=app.application_id,
            kecamatan=app.kecamatan,
            record_id=answer.reference_id,
            candidates=rules.case_candidates(answer.candidates, found),
        )
        state = State.DUPLICATE_SUSPECTED
        follow: events.EventPayload = events.BiometricsDuplicateSuspected(
            case_id=case_id, candidate_count=len(answer.candidates)
        )
    else:
        saved = await store.get_record(conn, answer.reference_id)
        assert saved is not None  # the application names its own record
        state = State.PRINT_READY
        follow = _print_ready(app, await _claim_checks(conn, saved, stage.chip_fingers))
    await store.set_state(conn, app.application_id, state)
    caused = Envelope.new(
        follow,
        application_id=app.application_id,
        kecamatan=app.kecamatan,
        causation_id=event.message_id,
    )
    log.info(
        "application %s: 1:N answer %s", app.application_id,
        f"{len(answer.candidates)} candidate(s), case opened" if answer.candidates
        else "no duplicate, print ready",
    )  # fmt: skip
    return [stage.emit(caused)]


# ---------------------------------------------------------------- adjudication


async def adjudicate(
    runtime: Runtime,
    stage: Stage,
    case_id: str,
    decision: Decision,
    officer_id: str,
    note: str | None = None,
) -> State:
    """Decide an open case: clear ⇒ record.print_ready; confirm ⇒ duplicate_confirmed."""
    # Every kecamatan: the route's lookup ran in the officer's scope first; the case's other
    # record may be another office's (the candidate's record checks read it).
    async with in_scope(runtime.pool, None) as conn:
        case = await store.get_case(conn, case_id, lock=True)
        if case is None:
            raise NotFoundError("no such adjudication case")
        if case.decision is not None:
            raise ConflictError(f"case already decided: {case.decision.value}")
        app = await store.get_application(conn, case.application_id, lock=True)
        assert app is not None
        if app.state is not State.DUPLICATE_SUSPECTED:
            raise ConflictError(f"application is {app.state.value}: nothing to decide")
        await store.decide(conn, case_id, decision, officer_id, note)
        if decision is Decision.CLEAR:
            saved = await store.get_record(conn, case.record_id)
            assert saved is not None
            checks = await _claim_checks(conn, saved, stage.chip_fingers)
            event = _event(app, _print_ready(app, checks))
            state = State.PRINT_READY
        else:
            event = _event(
                app, events.BiometricsDuplicateConfirmed(case_id=case_id, officer_id=officer_id)
            )
            state = State.DUPLICATE_CONFIRMED
        await store.set_state(conn, app.application_id, state)
        await _commit(conn, stage, [event])
    runtime.relay.wake()
    log.info("adjudication case %s decided: %s", case_id, decision.value)
    return state


# ---------------------------------------------------------------- cancelled


async def cancelled(event: Envelope, conn: Conn) -> None:
    if await store.cancel(conn, event.application_id):
        log.info(
            "application %s cancelled: removed from the biometric queues", event.application_id
        )


# ---------------------------------------------------------------- automatic operator


AUTO_IDLE_POLL_S = 0.25
AUTO_RETRY_AFTER_S = 120.0


def auto_operator(stage: Stage, concurrency: int) -> Callable[[Runtime], Awaitable[None]]:
    """A background loop capturing every queued applicant at its station's devices."""

    async def auto_capture(runtime: Runtime) -> None:
        log.info("automatic operator on: every queued applicant is captured")
        gate = asyncio.Semaphore(concurrency)

        async def one(application_id: uuid.UUID) -> None:
            async with gate:
                try:
                    await capture(
                        runtime, stage, application_id, CaptureOrder(stage.auto_operator_id)
                    )
                except ConflictError:
                    pass  # an operator (or another instance) was quicker
                except Exception as error:  # one applicant must not stop the loop
                    log.warning(
                        "automatic capture of application %s failed (retried later): %s: %s",
                        application_id,
                        type(error).__name__,
                        error,
                    )

        while not runtime.stop.is_set():
            stage.auto_wakeup.clear()
            try:
                async with runtime.pool.acquire() as conn:
                    claimed = await store.claim_for_auto_capture(
                        conn, concurrency * 2, AUTO_RETRY_AFTER_S
                    )
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("automatic operator: database unavailable (%s); retrying", error)
                claimed = []
            if claimed:
                await asyncio.gather(*(one(a) for a in claimed))
                continue
            waits = [
                asyncio.ensure_future(runtime.stop.wait()),
                asyncio.ensure_future(stage.auto_wakeup.wait()),
            ]
            try:
                await asyncio.wait(waits, timeout=AUTO_IDLE_POLL_S, return_when="FIRST_COMPLETED")
            finally:
                for waiter in waits:
                    waiter.cancel()

    return auto_capture
