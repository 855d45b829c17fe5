"""The stage's work: recording an applicant (capture → quality → store → dedupe → events),
adjudicating suspected duplicates, and the automatic operator of the demo/benchmark mode.

Every state change is written with its events in one transaction (outbox and status history),
then the relay is woken. Device and matching work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.envelope import Envelope
from schemas.events import (
    BiometricsDuplicateConfirmed,
    BiometricsDuplicateSuspected,
    BiometricsRecorded,
    BiometricsSkipped,
    EventPayload,
    RecordPrintReady,
)
from schemas.topics import Topics
from services.biometric import applications, rules, store
from services.biometric.applications import Application, Decision, State
from services.biometric.capture import CaptureDevices, Finger, SimulatedDevices, finger_of
from services.biometric.crypto import MasterKeyring
from services.biometric.dedupe import DedupeCheck, DuplicateSuspected, LocalDedupe
from services.biometric.enrolment import Enrolment, enrol
from services.biometric.quality import ExceptionReason, QualityPolicy
from services.runtime import outbox, status
from services.runtime.db import Conn
from services.runtime.errors import is_transient
from services.runtime.logs import bind
from services.runtime.messages import Emit
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.biometric")


class NotFoundError(Exception):
    pass


class ConflictError(Exception):
    """The item is not in a state that allows the action (already done, or in progress)."""


@dataclass(frozen=True)
class Simulation:
    """Knobs of the simulated devices (ignored by a real device adapter)."""

    seed: str | None = None  # default: derived from the NIK (same NIK, same person)
    poor_attempts: Mapping[str, int] = field(default_factory=dict)
    absent: Sequence[Finger] = ()


@dataclass(frozen=True)
class CaptureOrder:
    operator_id: str
    declared: Mapping[Finger, ExceptionReason] = field(default_factory=dict)
    simulation: Simulation = Simulation()


DeviceFactory = Callable[[Application, Simulation], CaptureDevices]


def simulated_devices(application: Application, simulation: Simulation) -> CaptureDevices:
    """The local default device adapter: simulated devices seeded per applicant."""
    return SimulatedDevices(
        seed=simulation.seed or rules.simulation_seed(application.nik),
        poor_attempts=dict(simulation.poor_attempts),
        absent=tuple(simulation.absent),
    )


@dataclass
class Stage:
    """What the handlers, the HTTP API and the automatic operator share."""

    topics: Topics
    keyring: MasterKeyring
    policy: QualityPolicy
    chip_fingers: tuple[Finger, ...]
    devices: DeviceFactory = simulated_devices
    dedupe_threshold: int = 80
    dedupe: DedupeCheck | None = None  # default: LocalDedupe over the runtime's pool
    auto_operator_id: str = "auto.operator"
    auto_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    capturing: set[uuid.UUID] = field(default_factory=set)  # in this process, right now

    def dedupe_for(self, runtime: Runtime) -> DedupeCheck:
        if self.dedupe is None:
            self.dedupe = LocalDedupe(runtime.pool, self.keyring, threshold=self.dedupe_threshold)
        return self.dedupe

    def emit(self, envelope: Envelope) -> Emit:
        return Emit(self.topics.for_event(envelope.type, envelope.kecamatan), envelope)


@dataclass(frozen=True)
class Recorded:
    application_id: uuid.UUID
    record_id: uuid.UUID
    state: State
    case_id: str | None
    fingerprints_captured: int
    exceptions: Sequence[tuple[str, str, int]]  # (item, reason, attempts)
    attempts: Mapping[str, int]


def _event(app: Application, payload: EventPayload) -> Envelope:
    return Envelope.new(
        payload,
        application_id=app.application_id,
        kecamatan=app.kecamatan,
        causation_id=app.validated_message_id,
    )


def print_ready_payload(app: Application, checks: rules.ClaimChecks) -> RecordPrintReady:
    return RecordPrintReady(
        tracking_number=app.tracking_number,
        application_type=app.application_type,
        priority=rules.priority(app.application_type),
        card=app.validated.applicant.card_face(),
        photo=checks.photo,
        signature=checks.signature,
        fingerprint_templates=checks.fingerprint_templates,
    )


async def claim_checks(
    conn: Conn, saved: store.SavedRecord, chip_fingers: Sequence[Finger]
) -> rules.ClaimChecks:
    items, templates = await store.digests(conn, saved.record_id)
    return rules.claim_checks(saved.reference, items, templates, chip_fingers)


async def skip_payloads(
    conn: Conn, app: Application, existing: store.SavedRecord, chip_fingers: Sequence[Finger]
) -> tuple[BiometricsSkipped, RecordPrintReady]:
    """The NIK already has a record: reuse it, straight to print."""
    checks = await claim_checks(conn, existing, chip_fingers)
    return BiometricsSkipped(existing_record=checks.record), print_ready_payload(app, checks)


async def _commit(conn: Conn, stage: Stage, envelopes: Sequence[Envelope]) -> None:
    await outbox.enqueue(conn, [stage.emit(e) for e in envelopes])
    await status.record(conn, status.transitions(None, envelopes))


# ---------------------------------------------------------------- capture


async def capture(
    runtime: Runtime, stage: Stage, application_id: uuid.UUID, order: CaptureOrder
) -> Recorded:
    """Record one queued applicant. Raises NotFoundError, ConflictError, or
    ``enrolment.CaptureFailed`` (a mandatory item failed every attempt: nothing is stored)."""
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
    async with runtime.pool.acquire() as conn:
        app = await applications.get(conn, application_id)
    _check_queued(app)
    assert app is not None
    devices = stage.devices(app, order.simulation)
    # device SDKs block, and so do the quality checks and template extraction
    enrolment: Enrolment = await asyncio.to_thread(
        enrol, devices, stage.policy, dict(order.declared)
    )
    recaptures = sum(max(0, n - 1) for n in enrolment.attempts.values())
    result = await stage.dedupe_for(runtime).check(enrolment.templates)

    async with runtime.pool.acquire() as conn, conn.transaction():
        app = await applications.get(conn, application_id, lock=True)
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
        checks = await claim_checks(conn, saved, stage.chip_fingers)
        fingers = sum(1 for c in enrolment.captures if finger_of(c.item) is not None)
        recorded = _event(
            app,
            BiometricsRecorded(
                record=checks.record,
                fingerprints_captured=fingers,
                iris_captured=any(c.item.startswith("iris.") for c in enrolment.captures),
                face_captured=True,  # mandatory: enrol raises otherwise
                signature_captured=True,
                operator_id=order.operator_id,
            ),
        )
        case_id: str | None = None
        if isinstance(result, DuplicateSuspected):
            case_id = f"dup-{uuid.uuid4().hex[:20]}"
            await applications.open_case(
                conn,
                case_id=case_id,
                application_id=app.application_id,
                kecamatan=app.kecamatan,
                record_id=saved.record_id,
                candidates=[
                    {"record_id": str(c.record_id), "kecamatan": c.kecamatan, "score": c.score}
                    for c in result.candidates
                ],
            )
            state = State.DUPLICATE_SUSPECTED
            follow = _event(
                app,
                BiometricsDuplicateSuspected(
                    case_id=case_id, candidate_count=len(result.candidates)
                ),
            )
        else:
            state = State.PRINT_READY
            follow = _event(app, print_ready_payload(app, checks))
        await applications.set_state(
            conn,
            app.application_id,
            state,
            record_id=saved.record_id,
            operator_id=order.operator_id,
        )
        await _commit(conn, stage, [recorded, follow])
    runtime.relay.wake()
    log.info(
        "recorded application %s in kecamatan %s: record %s, %d fingerprints, %d exceptions,"
        " %d re-captures, %s",
        app.application_id,
        app.kecamatan,
        saved.record_id,
        fingers,
        len(enrolment.exceptions),
        recaptures,
        f"duplicate suspected (case {case_id})" if case_id else "print ready",
    )
    return Recorded(
        application_id=app.application_id,
        record_id=saved.record_id,
        state=state,
        case_id=case_id,
        fingerprints_captured=fingers,
        exceptions=[(e.item, e.reason.value, e.attempts) for e in enrolment.exceptions],
        attempts=dict(enrolment.attempts),
    )


def _check_queued(app: Application | None) -> None:
    if app is None:
        raise NotFoundError("no such application in the biometric stage")
    if app.state is not State.QUEUED:
        raise ConflictError(f"application is {app.state.value}, not queued for recording")


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
    async with runtime.pool.acquire() as conn, conn.transaction():
        case = await applications.get_case(conn, case_id, lock=True)
        if case is None:
            raise NotFoundError("no such adjudication case")
        if case.decision is not None:
            raise ConflictError(f"case already decided: {case.decision.value}")
        app = await applications.get(conn, case.application_id, lock=True)
        assert app is not None
        if app.state is not State.DUPLICATE_SUSPECTED:
            raise ConflictError(f"application is {app.state.value}: nothing to decide")
        await applications.decide(conn, case_id, decision, officer_id, note)
        if decision is Decision.CLEAR:
            saved = await store.get_record(conn, case.record_id)
            assert saved is not None
            checks = await claim_checks(conn, saved, stage.chip_fingers)
            event = _event(app, print_ready_payload(app, checks))
            state = State.PRINT_READY
        else:
            event = _event(
                app, BiometricsDuplicateConfirmed(case_id=case_id, officer_id=officer_id)
            )
            state = State.DUPLICATE_CONFIRMED
        await applications.set_state(conn, app.application_id, state)
        await _commit(conn, stage, [event])
    runtime.relay.wake()
    log.info("adjudication case %s decided: %s", case_id, decision.value)
    return state


# ---------------------------------------------------------------- automatic operator

AUTO_IDLE_POLL_S = 0.25
AUTO_RETRY_AFTER_S = 120.0


def auto_operator(stage: Stage, concurrency: int) -> Callable[[Runtime], Awaitable[None]]:
    """A background loop capturing every queued applicant with simulated devices."""

    async def auto_capture(runtime: Runtime) -> None:
        log.info("automatic operator on: queued applicants are captured with simulated devices")
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
                    claimed = await applications.claim_for_auto_capture(
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
