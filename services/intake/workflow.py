"""The desk's work: one function per staff action. Each checks the application's state, changes
it and enqueues the events it emits in one transaction (``services.runtime.commands``); the
routes in ``api/`` only parse requests and render answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from schemas.application import ApplicationType
from schemas.envelope import Envelope
from schemas.events import (
    ApplicationAccepted,
    ApplicationCancelled,
    ApplicationRefused,
    CardCollected,
    CardStoredUncollected,
)
from schemas.regions import Region
from schemas.requirements import Problem
from schemas.states import CANCELLABLE_STATES, ApplicationState
from schemas.values import InvalidValue, RegionLevel, parse_region_code, today_in_indonesia
from services.intake import rules, scans, store
from services.intake.context import Desk
from services.intake.models import (
    CancelRequest,
    FileInput,
    HandoverRequest,
    HandoverResult,
    Receipt,
    ResubmitApplication,
    StoreRequest,
    SubmitApplication,
)
from services.intake.refusals import incomplete, nik_taken, not_found, refusal, wrong_state
from services.runtime.auth import Identity, may_see
from services.runtime.commands import Answer, Command
from services.runtime.db import Conn, in_scope

log = logging.getLogger("tuntas.intake")
S = ApplicationState


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- steps 1-2: submission


def _file_problems(desk: Desk, body: FileInput, raw: Any, has_scan: bool) -> list[Problem]:
    return rules.file_problems(
        body.application_file(),
        raw,
        has_scan=has_scan,
        require_kk_scan=desk.settings.require_kk_scan,
        today=today_in_indonesia(),
    )


def _kk_scan(desk: Desk, body: FileInput) -> scans.Scan | None:
    scan = body.kk_scan
    return scans.inline(
        scan.content_base64 if scan else None,
        scan.content_type if scan else None,
        desk.settings.max_upload_bytes,
        "kk_scan.content_base64",
    )


async def _accept(
    desk: Desk,
    conn: Conn,
    app: store.Application | None,
    body: FileInput,
    office: Region,
    scan: scans.Scan | None,
) -> dict[str, Any]:
    """Accept the file: a new application (``app`` None) or the next revision of ``app``;
    enqueue ``application.accepted`` and return the receipt."""
    existing = await store.active_for_nik(conn, body.applicant.nik)
    if existing is not None and (app is None or existing.id != app.id):
        raise nik_taken(existing, office.code, desk.regions)
    upload_id = body.kk_scan.upload_id if body.kk_scan else None
    scan_id = await scans.link(conn, office.code, "kk_scan", upload_id, scan, "kk_scan.upload_id")
    now = _now()
    deadline = desk.calendar.deadline(now, desk.settings.service_working_days)
    file = body.application_file()
    accepted = store.AcceptedFile(
        nik=body.applicant.nik,
        application_type=body.application_type.value,
        state=S.ACCEPTED.value,
        file=file.model_dump(mode="json"),
        kk_scan_id=scan_id or (app.kk_scan_id if app else None),
        officer_id=body.officer_id,
        deadline=deadline,
    )
    if app is None:
        day = now.astimezone(desk.calendar.hours.zone).date()
        serial = await store.next_serial(conn, office.code, day)
        app_id, revision = uuid4(), 1
        number = rules.tracking_number(office.code, day, serial)
        await store.insert_application(
            conn,
            accepted,
            id=app_id,
            kecamatan=office.code,
            tracking_number=number,
            accepted_at=now,
        )
    else:
        app_id, revision, number = app.id, app.revision + 1, app.tracking_number
        await store.resubmit(conn, app_id, accepted, revision=revision, revised_at=now)
    payload = ApplicationAccepted(
        tracking_number=number,
        revision=revision,
        application_type=body.application_type,
        applicant=body.applicant,
        documents=file.documents,
        deadline=deadline,
        officer_id=body.officer_id,
    )
    event = Envelope.new(payload, application_id=app_id, kecamatan=office.code, occurred_at=now)
    await desk.publish(conn, [event])
    saved = await store.get(conn, app_id)
    assert saved is not None
    return Receipt.of(saved, office.name, desk.calendar.hours.zone).model_dump(mode="json")


async def _taking_nik(desk: Desk, nik: str, here: str | None, action: Awaitable[Answer]) -> Answer:
    """Run ``action``; if the NIK's unique index refused it (an active application at another
    office, which the command's scope does not show, or another desk at the same moment), say
    where (``here``: the office acting, if known: only its own applications are named)."""
    try:
        return await action
    except asyncpg.UniqueViolationError:
        # Every kecamatan on purpose: one active application per NIK across the district; the
        # refusal names another office's application by its office only.
        async with in_scope(desk.runtime.pool, None) as conn:
            taken = await store.active_for_nik(conn, nik)
        if taken is None:
            raise
        raise nik_taken(taken, here, desk.regions) from None


async def submit(desk: Desk, body: SubmitApplication, raw: Any, key: str | None) -> Answer:
    """A file received at the desk: complete, a receipt (201) and ``application.accepted``;
    incomplete, a refusal listing what is missing (counted) and nothing enters the pipeline."""
    office = desk.office(body.kecamatan)
    scan = _kk_scan(desk, body)
    problems = _file_problems(desk, body, raw, body.kk_scan is not None)
    if problems:
        await refused(desk, office.code, body.application_type.value, problems, body.officer_id)
        raise incomplete(problems)

    async def nothing_to_lock(conn: Conn) -> None:
        return None  # a new application: the NIK's unique index guards it

    async def apply(conn: Conn, _: None) -> Answer:
        return Answer(201, await _accept(desk, conn, None, body, office, scan))

    command = Command("submit", key, body.model_dump(mode="json"))
    # The office the file is received for (the route checked it is the caller's): the NIK's
    # application at another office is out of this scope; the unique index still refuses it.
    action = desk.run(command, office.code, nothing_to_lock, apply)
    answer = await _taking_nik(desk, body.applicant.nik, office.code, action)
    if not answer.replayed:
        log.info("accepted %s (%s)", answer.body["tracking_number"], body.application_type.value)
    return answer


# ---------------------------------------------------------------- refused at the desk


async def refused(
    desk: Desk, office: str, kind: str | None, problems: Sequence[Problem], officer_id: str
) -> None:
    """Count a refused file and enqueue ``application.refused`` (problem codes, no personal
    data) in one transaction: the row and the event both or neither. Never fails the answer:
    the applicant is told what is missing even if this refusal goes uncounted."""
    codes = [p.code for p in problems]
    try:
        payload = ApplicationRefused(
            application_type=ApplicationType(kind) if kind else None,
            problem_codes=tuple(codes),
            officer_id=officer_id,
        )
        # A refused file never became an application, so it has no id; none may be derived
        # from the applicant (no personal data) and it must not join the application the
        # complete file later becomes. A fresh id makes each refusal a story of one event,
        # ended at once (notification's SLA timeline ends there; no stage keeps it).
        event = Envelope.new(payload, application_id=uuid4(), kecamatan=office)
        async with in_scope(desk.runtime.pool, office) as conn:
            await store.record_refusal(conn, office, kind, codes, officer_id)
            await desk.publish(conn, [event])
    except (ValueError, OSError, asyncpg.PostgresError) as e:
        log.warning("could not record a refusal: %s", e)
        return
    desk.runtime.relay.wake()


async def refused_unparsed(
    desk: Desk, caller: Identity | None, body: Mapping[str, Any], problems: Sequence[Problem]
) -> None:
    """A refused file whose request did not even parse: counted as :func:`refused` when its
    office is readable and the caller's; the officer is the token's user (``caller``)."""
    try:
        code = parse_region_code(body.get("kecamatan"), RegionLevel.KECAMATAN)  # type: ignore[arg-type]
    except InvalidValue:
        return
    if caller is None or not problems or code not in desk.regions.by_code:
        return
    if not may_see(caller, code):
        return  # another office's file: not this caller's to count (the route says 403)
    kind = body.get("application_type")
    known = isinstance(kind, str) and kind in {t.value for t in ApplicationType}
    await refused(desk, code, kind if known else None, problems, caller.username)


# ---------------------------------------------------------------- step 3 back: corrections


# The actions on one application run with scope None (every kecamatan): their route's lookup
# in the caller's scope (api.guard.own_application) found the application first, so another
# office's answers 404 before the action starts; the action then acts for that office.
def _locking(application_id: UUID) -> Callable[[Conn], Awaitable[store.Application]]:
    async def load(conn: Conn) -> store.Application:
        app = await store.get(conn, application_id, for_update=True)
        if app is None:
            raise not_found()
        return app

    return load


async def resubmit(
    desk: Desk, application_id: UUID, body: ResubmitApplication, raw: Any, key: str | None
) -> Answer:
    """A corrected file as the next revision (``application.accepted``, revision + 1)."""
    scan = _kk_scan(desk, body)

    async def apply(conn: Conn, app: store.Application) -> Answer:
        if app.state != S.SENT_BACK:
            raise wrong_state("not_awaiting_correction", app.state)
        has_scan = body.kk_scan is not None or app.kk_scan_id is not None
        problems = _file_problems(desk, body, raw, has_scan)
        if problems:
            raise incomplete(problems)
        return Answer(200, await _accept(desk, conn, app, body, desk.office(app.kecamatan), scan))

    command = Command(f"resubmit:{application_id}", key, body.model_dump(mode="json"))
    return await _taking_nik(
        desk, body.applicant.nik, None, desk.run(command, None, _locking(application_id), apply)
    )


# ---------------------------------------------------------------- cancel, steps 7-8: handover


def _result(app: store.Application, state: str, **after: Any) -> dict[str, Any]:
    return HandoverResult(
        application_id=app.id,
        tracking_number=app.tracking_number,
        state=state,
        collected_at=after.get("collected_at"),
        receipt_reference=after.get("receipt_reference"),
    ).model_dump(mode="json")


async def cancel(desk: Desk, application_id: UUID, body: CancelRequest) -> Answer:
    """Withdraw an application (until a chip is encoded): ``application.cancelled``; the NIK
    is free again."""

    async def apply(conn: Conn, app: store.Application) -> Answer:
        if ApplicationState(app.state) not in CANCELLABLE_STATES:
            raise wrong_state("not_cancellable", app.state)
        await store.set_state(conn, app.id, S.CANCELLED, active=False, closed_reason="cancelled")
        cancelled = ApplicationCancelled(reason=body.reason, officer_id=body.officer_id)
        await desk.publish(
            conn, [Envelope.new(cancelled, application_id=app.id, kecamatan=app.kecamatan)]
        )
        return Answer(200, _result(app, S.CANCELLED))

    command = Command(f"cancel:{application_id}", None, body.model_dump(mode="json"))
    return await desk.run(command, None, _locking(application_id), apply)


async def store_uncollected(desk: Desk, application_id: UUID, body: StoreRequest) -> Answer:
    """A card not collected in time is stored (the applicant is then called). Storing a
    stored card again answers as the first time and publishes nothing: a desk's retry after a
    lost answer (the stage restarted after its commit) is not refused."""

    async def apply(conn: Conn, app: store.Application) -> Answer:
        if app.state == S.STORED_UNCOLLECTED:
            return Answer(200, _result(app, S.STORED_UNCOLLECTED))
        if app.state != S.READY_FOR_COLLECTION:
            raise wrong_state("not_ready_for_collection", app.state)
        place = body.storage_place or app.storage_place or "Loket pelayanan"
        await store.set_state(conn, app.id, S.STORED_UNCOLLECTED, storage_place=place)
        stored = CardStoredUncollected(storage_place=place)
        await desk.publish(
            conn, [Envelope.new(stored, application_id=app.id, kecamatan=app.kecamatan)]
        )
        return Answer(200, _result(app, S.STORED_UNCOLLECTED))

    command = Command(f"store:{application_id}", None, body.model_dump(mode="json"))
    return await desk.run(command, None, _locking(application_id), apply)


def _check_collectable(app: store.Application, presented_nik: str) -> None:
    if app.state == S.COLLECTED:
        raise wrong_state("already_collected", app.state)
    if app.state != S.ACTIVATED:
        waiting = app.state in (S.READY_FOR_COLLECTION, S.STORED_UNCOLLECTED)
        raise wrong_state("not_activated" if waiting else "not_at_the_desk", app.state)
    if presented_nik != app.nik:
        raise refusal(
            422,
            "nik_mismatch",
            "presented_nik",
            "NIK pada identitas yang ditunjukkan tidak sesuai dengan NIK pemohon",
            "the NIK presented differs from the applicant's",
        )


async def handover(
    desk: Desk, application_id: UUID, body: HandoverRequest, key: str | None
) -> Answer:
    """Hand the activated card over, only against the applicant's signed receipt and an
    identity with the application's NIK: ``card.collected``."""
    receipt = body.signed_receipt
    sources = [] if receipt is None else [receipt.upload_id, receipt.image_base64]
    sources += [] if receipt is None else [receipt.scan_reference]
    if receipt is None or len([s for s in sources if s is not None]) != 1:
        raise refusal(
            422,
            "missing_signed_receipt",
            "signed_receipt",
            "Tanda terima yang ditandatangani pemohon wajib dilampirkan (satu: unggahan, "
            "gambar tanda tangan, atau nomor pindaian)",
            "the receipt signed by the applicant is required (exactly one of upload_id, "
            "image_base64, scan_reference)",
        )
    path = "signed_receipt.image_base64"
    limit = desk.settings.max_upload_bytes
    scan = scans.inline(receipt.image_base64, receipt.content_type, limit, path)

    async def apply(conn: Conn, app: store.Application) -> Answer:
        _check_collectable(app, body.presented_nik)
        upload_id = await scans.link(
            conn,
            app.kecamatan,
            "signed_receipt",
            receipt.upload_id,
            scan,
            "signed_receipt.upload_id",
        )
        reference = receipt.scan_reference or f"TT-{app.tracking_number}"
        now = _now()
        await store.insert_handover(
            conn,
            application_id=app.id,
            kecamatan=app.kecamatan,
            receipt_upload=upload_id,
            scan_reference=receipt.scan_reference,
            receipt_reference=reference,
            officer_id=body.officer_id,
        )
        after = {"collected_at": now, "receipt_reference": reference}
        await store.set_state(
            conn, app.id, S.COLLECTED, active=False, closed_reason="collected", **after
        )
        collected = CardCollected(receipt_reference=reference, officer_id=body.officer_id)
        event = Envelope.new(
            collected, application_id=app.id, kecamatan=app.kecamatan, occurred_at=now
        )
        await desk.publish(conn, [event])
        return Answer(200, _result(app, S.COLLECTED, **after))

    command = Command(f"handover:{application_id}", key, body.model_dump(mode="json"))
    return await desk.run(command, None, _locking(application_id), apply)
