"""One kecamatan's card station: blank stock, the production loop, certificates, activation.

The stage's workflow: the only module that decides what happens next; ``api/`` and
``handlers`` call it, ``store`` holds the SQL, ``rules`` the pure decisions.

Hardware work never runs inside a database transaction: the loop takes a job and reserves a
blank (one transaction), encodes (hardware), records ``encoded`` (one transaction), prints
(hardware), records ``printed`` and then ``ready_for_collection`` (one transaction each).
Every state change is committed together with its outbox events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from schemas import ktpel
from schemas.application import CardFace
from schemas.envelope import Envelope
from schemas.events import (
    CardActivated,
    CardEncoded,
    CardPrinted,
    CardQueuedForPrinting,
    CardReadyForCollection,
    CardSpoiled,
    CardWaitingForStock,
    CertificateIssued,
    EventPayload,
    RecordPrintReady,
    SpoilReason,
    StockChange,
    StockLevel,
    StockLow,
)
from schemas.topics import STOCK_EVENTS, Topics
from services.card_production import fingerprint, rules, store
from services.card_production.biosource import (
    BiometricUnavailable,
    CardDataRefused,
    CardMaterial,
    HttpBiometricSource,
)
from services.card_production.devices import Devices, FeedError
from services.card_production.hardware import encoder, printer, render
from services.card_production.settings import CardProductionSettings
from services.runtime import outbox, status
from services.runtime.auth import Identity
from services.runtime.db import Conn, caller_scope, in_scope
from services.runtime.errors import is_transient
from services.runtime.messages import Emit
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.card_production")
RETRY_S = 5.0


class Conflict(Exception):
    """The action does not fit the job's or the stock's current state (HTTP 409)."""


class NotFound(Exception):
    pass


class Unavailable(Exception):
    """A device or the biometric service is not there right now (HTTP 503)."""


@dataclass(frozen=True)
class ActivationResult:
    matched: bool
    score: int
    failures: int
    escalated: bool
    chip_serial: str | None = None


def _note(text: str) -> str:
    return " ".join(text.split())[:180] or "-"


@dataclass
class Station:
    settings: CardProductionSettings
    devices: Devices
    source: HttpBiometricSource
    runtime: Runtime | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    reader_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    paused: str | None = None  # why the station does not take jobs now
    alerts: list[dict[str, Any]] = field(default_factory=list)
    printer_state: dict[str, Any] = field(default_factory=dict)
    reader_state: str = "unknown"
    current_job: str | None = None
    biometric_down: bool = False
    api_pool: asyncpg.Pool | None = None  # the HTTP app's pool, set by api.create_app

    @property
    def kecamatan(self) -> str:
        return self.settings.kecamatan

    @property
    def topics(self) -> Topics:
        return Topics(self.settings.connections.tuntas_topic_prefix)

    @property
    def channel(self) -> str:
        return f"cp_jobs_{self.settings.station_schema}"[:63]

    @property
    def rt(self) -> Runtime:
        assert self.runtime is not None, "station not started"
        return self.runtime

    @property
    def _api_pool(self) -> asyncpg.Pool:
        # The HTTP app's pool (no scope by default) once the API is built; else the station's.
        return self.api_pool or self.rt.pool

    def _staff_tx(self) -> AbstractAsyncContextManager[Conn]:
        """A staff action's transaction, in this station's kecamatan: its schema holds no
        other, and the route's office check let only its own staff in."""
        return in_scope(self._api_pool, self.kecamatan)

    # ------------------------------------------------------------ events

    def _emit(self, payload: EventPayload, application_id: UUID) -> Emit:
        event = Envelope.new(payload, application_id=application_id, kecamatan=self.kecamatan)
        stock = payload.event_type in STOCK_EVENTS
        return Emit(
            self.topics.for_event(payload.event_type, self.kecamatan),
            event,
            key=self.kecamatan if stock else None,
        )

    async def _commit(self, conn: Conn, emits: Sequence[Emit], wake_loop: bool = False) -> None:
        """Inside the transaction: outbox rows and status transitions (stock events move no
        application's status)."""
        await outbox.enqueue(conn, emits)
        moves = [e.event for e in emits if e.event.type not in STOCK_EVENTS]
        await status.record(conn, status.transitions(None, moves))
        if wake_loop:
            await store.notify(conn, self.channel)

    def _alert(self, kind: str, message: str) -> None:
        log.error("ALERT %s: %s", kind, message)
        self.alerts = [*self.alerts[-19:], {"kind": kind, "message": message, "at": time.time()}]

    # ------------------------------------------------------------ stock

    async def _stock_level(
        self, conn: Conn, application_id: UUID, change: int, reason: StockChange
    ) -> list[Emit]:
        level = await store.available(conn, self.kecamatan)
        emits = [self._emit(StockLevel(blanks_available=level, change=change, reason=reason),
                            application_id)]  # fmt: skip
        threshold = self.settings.low_stock_threshold
        if change < 0 and level < threshold <= level - change:  # crossed it now
            emits.append(
                self._emit(StockLow(blanks_available=level, threshold=threshold), application_id)
            )
        return emits

    async def receive_batch(
        self, batch_ref: str, first_serial: str, last_serial: str, received_by: str
    ) -> tuple[dict[str, Any], bool]:
        """Record a delivery of blanks; resume waiting jobs. (batch, created now)."""
        serials = rules.serial_range(first_serial, last_serial)
        first, last = serials[0], serials[-1]
        async with self._staff_tx() as conn:
            await store.lock_stock(conn, self.kecamatan)
            existing = await store.batch(conn, self.kecamatan, batch_ref)
            if existing is not None:
                if (existing["first_serial"], existing["last_serial"]) != (first, last):
                    raise Conflict(f"batch {batch_ref} was received with another serial range")
                return _batch(existing), False
            clash = await store.received_serial(conn, serials)
            if clash is not None:
                raise Conflict(f"serial {clash} was already received")
            row = await store.insert_batch(conn, self.kecamatan, batch_ref, serials, received_by)
            emits = await self._stock_level(conn, uuid4(), len(serials), StockChange.DELIVERED)
            level = await store.available(conn, self.kecamatan)
            for job in await store.waiting_jobs(conn, self.kecamatan, level):
                await store.update_job(
                    conn, self.kecamatan, job["application_id"], state=store.QUEUED
                )
                emits.append(
                    self._emit(
                        CardQueuedForPrinting(reason="stock_available"), job["application_id"]
                    )
                )
            await self._commit(conn, emits, wake_loop=True)
        self.rt.relay.wake()
        log.info("received %d blanks (%s..%s)", len(serials), first, last)
        return _batch(row), True

    async def spoil_blank(self, serial: str, reason: SpoilReason, note: str | None) -> None:
        """An available blank found damaged in storage."""
        async with self._staff_tx() as conn:
            state = await store.blank_state(conn, self.kecamatan, serial)
            if state is None:
                raise NotFound(f"no blank {serial} at this station")
            if state != "available":
                raise Conflict(f"blank {serial} is {state}, not available")
            await store.mark_blank(conn, self.kecamatan, serial, "spoiled", reason.value, note)
            emits = await self._stock_level(conn, uuid4(), -1, StockChange.SPOILED)
            await self._commit(conn, emits)
        self.rt.relay.wake()

    # ------------------------------------------------------------ the production loop

    async def run(self, runtime: Runtime) -> None:
        """The background job: take jobs one by one while the printer is ready.

        The database going away (a restart, a backend terminated) stops nothing: a step that
        meets it is retried on the next pass, and the LISTEN connection is opened again."""
        self.runtime = runtime
        listener: PoolConnectionProxy[asyncpg.Record] | None = None

        def notified(*_: object) -> None:
            self.wake.set()

        try:
            while not runtime.stop.is_set():
                self.wake.clear()
                try:
                    if listener is None or not _usable(listener):
                        await self._unlisten(listener, notified)
                        listener = None
                        listener = await runtime.pool.acquire()
                        await listener.add_listener(self.channel, notified)
                    if not await self._printer_ready():
                        await self._sleep(self.settings.printer_poll_s)
                        continue
                    worked = await self._step()
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    log.warning("production step failed (%s); retrying", exc)
                    worked = False
                if not worked:
                    await self._sleep(self.settings.idle_poll_s)
        finally:
            await self._unlisten(listener, notified)

    async def _unlisten(
        self, listener: PoolConnectionProxy[asyncpg.Record] | None, notified: Callable[..., None]
    ) -> None:
        """Give the LISTEN connection back, whether or not the database still has it."""
        if listener is None or self.runtime is None:
            return
        with contextlib.suppress(Exception):  # a connection already lost: nothing to undo
            if _usable(listener):
                await listener.remove_listener(self.channel, notified)
        with contextlib.suppress(Exception):
            await self.runtime.pool.release(listener)

    async def _sleep(self, seconds: float) -> None:
        stop = asyncio.ensure_future(self.rt.stop.wait())
        wake = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait([stop, wake], timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            wake.cancel()

    async def _printer_ready(self) -> bool:
        st = await self.devices.printer.status()
        self.printer_state = {"queue": st.queue, "ready": st.ready, "state": st.state,
                              "accepting": st.accepting, "reason": st.reason}  # fmt: skip
        if st.ready:
            if self.paused is not None:
                log.warning("printer %s ready again: station resumes", st.queue)
                self.paused = None
            return True
        if self.paused is None:
            self.paused = f"printer {st.queue} not ready: {st.reason or 'stopped'}"
            self._alert("printer", f"{self.paused}; station paused, no job taken")
        return False

    async def _step(self) -> bool:
        """Work on the next job; False when there was nothing to do."""
        async with self.rt.pool.acquire() as conn, conn.transaction():
            job = await store.next_job(conn, self.kecamatan)
            if job is None:
                return False
            app = job["application_id"]
            serial = job["blank_serial"]
            if job["state"] == store.QUEUED and serial is None:
                serial = await store.reserve_blank(conn, self.kecamatan, app)
                if serial is None:
                    # A delivery may be committing now, its resume step already past: wait
                    # for it (the stock lock) and look again, or this job would wait for
                    # the next delivery with blanks on the shelf (defect 38).
                    await store.lock_stock(conn, self.kecamatan)
                    serial = await store.reserve_blank(conn, self.kecamatan, app)
                if serial is None:
                    await self._out_of_stock(conn)
                    return False
                await self._commit(conn, await self._stock_level(conn, app, -1, StockChange.USED))
                job = await store.get_job(conn, self.kecamatan, app)
                assert job is not None
        self.rt.relay.wake()
        self.current_job = str(app)
        try:
            return await self._produce(job)
        except Exception as exc:
            if is_transient(exc):
                raise  # the database or the network: the loop retries, the job is not to blame
            await self._failed(app, exc)
            return True
        finally:
            self.current_job = None

    async def _failed(self, app: UUID, exc: Exception) -> None:
        """A job failed for a reason no device explains: after ``max_errors`` tries it is
        escalated (held, with the error) so the station goes on with the next job."""
        error = _note(f"{type(exc).__name__}: {exc}")
        async with self.rt.pool.acquire() as conn, conn.transaction():
            tries = await store.count_error(conn, self.kecamatan, app, error)
            if rules.give_up(tries, self.settings.max_errors):
                await store.escalate(conn, self.kecamatan, app, "production_error",
                                     f"failed {tries} times; last: {error}")  # fmt: skip
        if rules.give_up(tries, self.settings.max_errors):
            self._alert("production", f"job {app} escalated after {tries} failures: {error}")
            return
        log.warning("job %s failed (try %d of %d): %s", app, tries,
                    self.settings.max_errors, error, exc_info=exc)  # fmt: skip
        await self._sleep(self.settings.error_retry_s)

    async def _out_of_stock(self, conn: Conn) -> None:
        jobs = await store.queued_without_blank(conn, self.kecamatan)
        emits = []
        for job in jobs:
            await store.update_job(conn, self.kecamatan, job["application_id"], state=store.WAITING)
            emits.append(self._emit(CardWaitingForStock(), job["application_id"]))
        await self._commit(conn, emits)
        if jobs:
            self._alert("stock", f"out of blanks: {len(jobs)} job(s) wait for stock")

    async def _material(self, job: asyncpg.Record) -> CardMaterial | None:
        ready = RecordPrintReady.model_validate(job["print_ready"])
        record = rules.record_id(ready.fingerprint_templates)
        try:
            material = await self.source.card_data(record, self.kecamatan)
        except BiometricUnavailable as exc:  # an outage: every job waits, none is to blame
            if not self.biometric_down:
                self.biometric_down = True
                self._alert("biometric", f"card data unavailable ({exc}); retrying")
            await self._sleep(RETRY_S)
            return None
        except CardDataRefused as exc:  # asking again will not change the answer
            async with self.rt.pool.acquire() as conn, conn.transaction():
                await store.escalate(conn, self.kecamatan, job["application_id"],
                                     exc.reason, str(exc))  # fmt: skip
            self._alert("card_data", f"job {job['application_id']} escalated: {exc}")
            return None
        if self.biometric_down:
            self.biometric_down = False
            log.warning("card data available again")
        return material

    async def _produce(self, job: asyncpg.Record) -> bool:
        app: UUID = job["application_id"]
        if job["state"] == store.PRINTED:  # printed, then the station was cut: shelve it now
            await self._shelve(app)
            return True
        ready = RecordPrintReady.model_validate(job["print_ready"])
        material = await self._material(job)
        if material is None:
            return True
        serial: str = job["blank_serial"]
        chip: str | None = job["chip_serial"]
        if job["state"] == store.QUEUED:
            unavailable = False
            async with self.reader_lock:
                try:
                    await self.devices.feeder.load_blank(serial)
                    result = await self.devices.encoder.encode(_chip_data(ready.card, material))
                    self.reader_state = "ok"
                except (encoder.ReaderUnavailable, FeedError) as exc:
                    self.reader_state = f"unavailable: {exc}"
                    self._alert("reader", f"{exc}; job {app} waits")
                    unavailable = True
                except encoder.EncoderError as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                    await self._spoil(app, serial, None, SpoilReason.ENCODING_FAILED, reason)
                    return True
            if unavailable:
                # waited outside the lock: an activation at the counter may find the reader back
                await self._sleep(RETRY_S)
                return True
            chip = rules.chip_serial(result.atr, serial)
            async with self.rt.pool.acquire() as conn, conn.transaction():
                await store.update_job(conn, self.kecamatan, app, state=store.ENCODED,
                                       chip_serial=chip)  # fmt: skip
                await self._commit(
                    conn,
                    [
                        self._emit(
                            CardEncoded(chip_serial=chip, operator_id=self.settings.operator_id),
                            app,
                        )
                    ],
                )
            self.rt.relay.wake()
        assert chip is not None
        try:
            pdf = render.render_card(self._card_data(ready.card, material))
        except ValueError as exc:  # photo/signature below 300 dpi: the data must be fixed
            async with self.rt.pool.acquire() as conn, conn.transaction():
                await store.escalate(conn, self.kecamatan, app, "render_failed", str(exc))
            return True
        try:
            job_id = await self.devices.printer.print_pdf(
                pdf, f"KTP-el {ready.tracking_number}", self.settings.print_timeout_s
            )
        except printer.PrinterStopped as exc:
            if exc.job_id is not None:  # never print it behind the station's back later
                await self.devices.printer.cancel(exc.job_id)
            self._alert("printer", f"stopped while printing {ready.tracking_number}: {exc}")
            return True  # the job stays encoded; the loop pauses until the queue is back
        except printer.PrinterOffline as exc:
            self._alert("printer", str(exc))
            return True
        except printer.PrintFailed as exc:
            await self._spoil(app, serial, chip, SpoilReason.PRINT_DEFECT, str(exc))
            return True
        await self._printed(app, serial, chip, str(job_id))
        if self.settings.auto_activate:
            await self._auto_activate(app, material)
        return True

    async def _printed(self, app: UUID, serial: str, chip: str, print_job: str) -> None:
        operator = self.settings.operator_id
        async with self.rt.pool.acquire() as conn, conn.transaction():
            await store.update_job(conn, self.kecamatan, app, state=store.PRINTED,
                                   print_job=print_job)  # fmt: skip
            await store.mark_blank(conn, self.kecamatan, serial, "used")
            printed = CardPrinted(chip_serial=chip, print_job=print_job, operator_id=operator)
            await self._commit(conn, [self._emit(printed, app)])
        await self._shelve(app)

    async def _shelve(self, app: UUID) -> None:
        """A printed card into its storage place, ready for collection."""
        async with self.rt.pool.acquire() as conn, conn.transaction():
            n = await store.next_storage_number(conn)
            place = rules.storage_place(
                n, self.settings.storage_drawers, self.settings.storage_slots
            )
            await store.update_job(conn, self.kecamatan, app, state=store.READY,
                                   storage_place=place)  # fmt: skip
            await self._commit(conn, [self._emit(CardReadyForCollection(storage_place=place), app)])
        self.rt.relay.wake()
        log.info("card of %s ready for collection at %s", app, place)

    async def _spoil(
        self, app: UUID, serial: str, chip: str | None, reason: SpoilReason, note: str
    ) -> None:
        log.warning("blank %s spoiled (%s): %s", serial, reason.value, note)
        async with self.rt.pool.acquire() as conn, conn.transaction():
            job = await store.get_job(conn, self.kecamatan, app, lock=True)
            assert job is not None
            attempts = job["attempts"] + 1
            await store.mark_blank(
                conn, self.kecamatan, serial, "spoiled", reason.value, _note(note)
            )
            await store.update_job(
                conn,
                self.kecamatan,
                app,
                state=store.QUEUED,
                blank_serial=None,
                chip_serial=None,
                attempts=attempts,
                last_error=_note(note),
            )
            spoiled = CardSpoiled(reason=reason, chip_serial=chip, note=_note(note))
            emits = [self._emit(spoiled, app)]
            if attempts >= self.settings.max_attempts:
                await store.escalate(
                    conn,
                    self.kecamatan,
                    app,
                    "too_many_spoiled",
                    f"{attempts} blanks spoiled; last: {_note(note)}",
                )
            else:
                emits.append(self._emit(CardQueuedForPrinting(reason="reprint"), app))
            emits += await self._stock_level(conn, app, 0, StockChange.SPOILED)
            await self._commit(conn, emits)
        self.rt.relay.wake()

    # ------------------------------------------------------------ certificate

    async def issue_certificate(self, app: UUID, officer_id: str) -> dict[str, Any]:
        async with self._staff_tx() as conn:
            job = await store.get_job(conn, self.kecamatan, app)
        if job is None:
            raise NotFound(f"no print job for application {app} at this station")
        if job["state"] == store.CERTIFICATE:
            raise Conflict(f"certificate {job['certificate_number']} was already issued")
        if job["state"] != store.WAITING:
            raise Conflict(f"a certificate is issued only while waiting for stock, not "
                           f"in state {job['state']}")  # fmt: skip
        material = await self._material_or_unavailable(job)
        ready = RecordPrintReady.model_validate(job["print_ready"])
        today = date.today()
        async with self._staff_tx() as conn:
            seq = await store.next_certificate_number(conn)
        number = rules.certificate_number(seq, self.kecamatan, today)
        until = rules.certificate_valid_until(today, self.settings.certificate_validity_days)
        try:
            pdf = self._certificate_pdf(ready.card, material, number, until)
        except ValueError as exc:  # e.g. the photo is below 300 dpi at the certificate's size
            raise Conflict(f"certificate cannot be rendered: {exc}") from exc
        folder = self.settings.certificate_dir / self.kecamatan
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{app}.pdf"
        await asyncio.to_thread(path.write_bytes, pdf)
        async with self._staff_tx() as conn:
            job = await store.get_job(conn, self.kecamatan, app, lock=True)
            if job is None or job["state"] != store.WAITING:
                raise Conflict("the job moved on while the certificate was made")
            await store.update_job(
                conn,
                self.kecamatan,
                app,
                state=store.CERTIFICATE,
                certificate_number=number,
                certificate_path=str(path),
            )
            issued = CertificateIssued(
                certificate_number=number, issued_on=today, valid_until=until, officer_id=officer_id
            )
            await self._commit(conn, [self._emit(issued, app)])
        self.rt.relay.wake()
        return {"application_id": str(app), "certificate_number": number,
                "issued_on": today.isoformat(), "valid_until": until.isoformat(),
                "pdf_path": str(path)}  # fmt: skip

    def _certificate_pdf(
        self, card: CardFace, material: CardMaterial, number: str, until: date
    ) -> bytes:
        return render.render_certificate(
            render.CertificateData(
                card=self._card_data(card, material),
                nomor=number,
                berlaku_sampai=until,
                pejabat_nama=self.settings.official_name,
                pejabat_nip=self.settings.official_nip,
                pejabat_jabatan=self.settings.official_title,
            )
        )

    async def _material_or_unavailable(self, job: asyncpg.Record) -> CardMaterial:
        ready = RecordPrintReady.model_validate(job["print_ready"])
        try:
            return await self.source.card_data(
                rules.record_id(ready.fingerprint_templates), self.kecamatan
            )
        except (BiometricUnavailable, CardDataRefused) as exc:
            raise Unavailable(str(exc)) from exc

    # ------------------------------------------------------------ activation (step 6)

    async def activate(
        self, app: UUID, officer_id: str, live_template: bytes, new_pin: str
    ) -> ActivationResult:
        async with self._staff_tx() as conn:
            job = await store.get_job(conn, self.kecamatan, app)
        if job is None:
            raise NotFound(f"no card for application {app} at this station")
        if job["held"]:
            raise Conflict("this card is escalated to the section head (see /escalations)")
        if job["state"] != store.READY:
            raise Conflict(f"only a card ready for collection can be activated, not {job['state']}")
        async with self.reader_lock:
            try:
                await self.devices.feeder.present(job["blank_serial"])
                # the same request again after a cut attempt finds the holder's PIN on the chip
                chip_templates, transport = await self.devices.encoder.read_for_activation(new_pin)
                score = fingerprint.best_score(live_template, chip_templates)
                if score >= self.settings.match_threshold and transport:
                    await self.devices.encoder.activate(ktpel.TRANSPORT_PIN, new_pin)
                elif score >= self.settings.match_threshold:
                    await self.devices.encoder.finish_activation(new_pin)
            except (encoder.EncoderError, FeedError) as exc:
                raise Unavailable(f"card reader: {type(exc).__name__}: {exc}") from exc
        async with self._staff_tx() as conn:
            job = await store.get_job(conn, self.kecamatan, app, lock=True)
            assert job is not None
            if score < self.settings.match_threshold:
                failures = job["activation_failures"] + 1
                await store.update_job(conn, self.kecamatan, app, activation_failures=failures)
                escalated = failures >= self.settings.activation_attempts
                if escalated:
                    await store.escalate(
                        conn,
                        self.kecamatan,
                        app,
                        "activation_failed",
                        f"fingerprint did not match {failures} times",
                    )
                return ActivationResult(False, score, failures, escalated)
            await store.update_job(conn, self.kecamatan, app, state=store.ACTIVATED)
            chip = job["chip_serial"]
            await self._commit(conn, [self._emit(
                CardActivated(chip_serial=chip, officer_id=officer_id), app)])  # fmt: skip
        self.rt.relay.wake()
        return ActivationResult(True, score, job["activation_failures"], False, chip)

    async def _auto_activate(self, app: UUID, material: CardMaterial) -> None:
        """Demo/benchmark: the holder's finger is simulated as the one on the chip."""
        try:
            await self.activate(app, self.settings.operator_id, material.finger_1,
                                f"{secrets.randbelow(10**6):06d}")  # fmt: skip
        except (Conflict, Unavailable) as exc:
            log.warning("auto-activation of %s failed: %s", app, exc)

    # ------------------------------------------------------------ helpers

    def _card_data(self, card: CardFace, material: CardMaterial) -> render.CardData:
        place = rules.place_of(self.kecamatan)
        f = rules.face_fields(card)
        return render.CardData(
            provinsi=place.provinsi, kabupaten=place.kabupaten, nik=card.nik, nama=f["nama"],
            tempat_lahir=f["tempat_lahir"], tanggal_lahir=card.birth_date,
            jenis_kelamin=f["jenis_kelamin"], gol_darah=f["gol_darah"], alamat=f["alamat"],
            rt=f["rt"], rw=f["rw"], kel_desa=f["kel_desa"], kecamatan=place.kecamatan,
            agama=f["agama"], status_perkawinan=f["status_perkawinan"],
            pekerjaan=f["pekerjaan"], kewarganegaraan=f["kewarganegaraan"],
            tempat_terbit=place.kabupaten, tanggal_terbit=date.today(),
            photo=material.photo, signature=material.signature,
        )  # fmt: skip

    # ------------------------------------------------------------ views for the API

    # A staff member's views read in their scope: PostgreSQL shows them this office's rows only.

    async def stock(self, caller: Identity) -> dict[str, Any]:
        async with caller_scope(self._api_pool, caller) as conn:
            counts = await store.stock_counts(conn, self.kecamatan)
            batches = await store.batches(conn, self.kecamatan)
            spoiled = await store.spoiled_blanks(conn, self.kecamatan)
        return {
            "kecamatan": self.kecamatan,
            "blanks_available": counts["available"],
            "counts": counts,
            "low_stock_threshold": self.settings.low_stock_threshold,
            "batches": [
                {"batch_ref": b["batch_ref"], "first_serial": b["first_serial"],
                 "last_serial": b["last_serial"], "count": b["count"]}
                for b in batches
            ],
            "spoiled": [
                {"serial": s["serial"], "reason": s["spoil_reason"], "note": s["spoil_note"],
                 "application_id": str(s["application_id"]) if s["application_id"] else None,
                 "at": s["updated_at"].isoformat()}
                for s in spoiled
            ],
        }  # fmt: skip

    async def jobs(self, caller: Identity, state: str | None) -> list[asyncpg.Record]:
        async with caller_scope(self._api_pool, caller) as conn:
            return await store.list_jobs(conn, self.kecamatan, state)

    async def job(self, app: UUID, caller: Identity | None = None) -> asyncpg.Record:
        """A job; for ``caller``, in their scope (``None``: the station's own look)."""
        itself = Identity("station", "station", frozenset(), self.kecamatan, is_machine=True)
        async with caller_scope(self._api_pool, caller or itself) as conn:
            row = await store.get_job(conn, self.kecamatan, app)
        if row is None:
            raise NotFound(f"no print job for {app} at this station")
        return row

    async def escalations(self, caller: Identity) -> list[asyncpg.Record]:
        async with caller_scope(self._api_pool, caller) as conn:
            return await store.escalations(conn, self.kecamatan)

    async def snapshot(self) -> dict[str, Any]:
        async with self._staff_tx() as conn:
            jobs = await store.job_counts(conn, self.kecamatan)
            blanks = await store.stock_counts(conn, self.kecamatan)
        return {
            "kecamatan": self.kecamatan,
            "feeder": self.settings.feeder,
            "paused": self.paused,
            "printer": self.printer_state,
            "reader": {"name": self.devices.encoder.reader, "state": self.reader_state},
            "current_job": self.current_job,
            "queues": jobs,
            "blanks": blanks,
            "alerts": self.alerts[-5:],
        }


def _chip_data(card: CardFace, material: CardMaterial) -> encoder.ChipData:
    return encoder.ChipData(
        nik=card.nik,
        biodata=rules.biodata_bytes(card),
        photo=material.photo,
        signature=material.signature,
        finger_1=material.finger_1,
        finger_2=material.finger_2,
    )


def _batch(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "batch_ref": row["batch_ref"],
        "first_serial": row["first_serial"],
        "last_serial": row["last_serial"],
        "count": row["count"],
        "received_by": row["received_by"],
        "received_at": row["received_at"].isoformat(),
    }


def _usable(conn: PoolConnectionProxy[asyncpg.Record]) -> bool:
    """Whether a pooled connection still works: one whose connection was lost may already be
    back in the pool's hands, and then even asking raises."""
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False
