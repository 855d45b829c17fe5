"""The office staff of the demo day, acting through the same HTTP APIs staff use.

One set of roles per kecamatan office: the front desk (files in, refusals, corrections,
handover, storing), the section head (validation decisions), the recording operator (biometric
capture), the station operator (blank stock and the printer) and the applicants coming back to
activate and collect. Each role polls its own work list, as a person at a screen would.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from PIL import Image, ImageDraw

from schemas.application import ApplicationType
from schemas.workdays import OfficeHours
from services.runtime.oidc_client import LoginRefused
from simulators import clock
from simulators.capture.render import render
from simulators.capture.subjects import simulation_seed
from simulators.courier import Courier, DeliveryRefused
from tuntas import staff, topology
from tuntas.demo.scenario import Office, Plan, Visitor
from tuntas.demo.watch import Seen
from tuntas.stack import cups

log = logging.getLogger("tuntas.demo.autopilot")

POLL_S = 0.4
MESSAGES_PAGE = 500  # the notification API pages its SMS log (at most 1,000 a page)
KK_SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class DemoError(RuntimeError):
    """The system answered a staff action in a way the demo day cannot go on from."""


@dataclass
class Journal:
    """What happened at the offices that no topic records (refusals at the desk, outages)."""

    started: float = field(default_factory=time.monotonic)
    refused: Counter[str] = field(default_factory=Counter)  # kecamatan → files refused
    refusal_reasons: Counter[str] = field(default_factory=Counter)
    corrected: Counter[str] = field(default_factory=Counter)
    # kecamatan → suspected duplicates the section head compared and cleared
    cleared: Counter[str] = field(default_factory=Counter)
    deliveries: list[tuple[str, str, int, float]] = field(default_factory=list)
    run_outs: list[tuple[str, float]] = field(default_factory=list)
    printer_stops: list[tuple[str, float, float]] = field(default_factory=list)
    failed_matches: Counter[str] = field(default_factory=Counter)
    moments: list[tuple[float, str]] = field(default_factory=list)
    # (service address, seconds it did not answer, requests retried meanwhile)
    outages: list[tuple[str, float, int]] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.moments.append((time.monotonic() - self.started, text))
        log.info("%s", text)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _typo(name: str) -> str:
    """The name as mistyped at the desk: two neighbouring letters swapped."""
    letters = list(name)
    for i in range(len(letters) - 1):
        a, b = letters[i], letters[i + 1]
        if a.isalpha() and b.isalpha() and a.lower() != b.lower() and i > 0:
            letters[i], letters[i + 1] = b, a
            return "".join(letters)
    return name + "h"


def application_file(visitor: Visitor, *, complete: bool, typo: bool) -> dict[str, Any]:
    """The file the desk enters for ``visitor`` (without ``kecamatan`` and the scan)."""
    resident = visitor.resident
    applicant = resident.applicant(phone=visitor.phone).model_dump(mode="json")
    if typo:
        applicant["name"] = _typo(applicant["name"])
    documents: dict[str, Any] = {"kk_photocopy": {"kk_number": resident.kk_number}}
    if visitor.application_type is ApplicationType.LOST:
        documents["police_report"] = {
            "number": f"SKK/{visitor.number:03d}/XI/2026/Sek-Tph",
            "issued_on": "2026-11-20",
            "issuing_station": "Polsek Tempeh",
        }
    elif visitor.application_type is ApplicationType.DAMAGED:
        documents["damaged_card"] = {"nik_on_card": resident.nik, "condition": "chip retak"}
    if not complete:  # the document a visitor most often forgets for this kind of card
        missing = {
            ApplicationType.NEW: "kk_photocopy",
            ApplicationType.LOST: "police_report",
            ApplicationType.DAMAGED: "damaged_card",
        }[visitor.application_type]
        documents.pop(missing)
    return {
        "officer_id": f"petugas.{visitor.kecamatan}.01",
        "application_type": visitor.application_type.value,
        "applicant": applicant,
        "documents": documents,
    }


def live_finger(visitor: Visitor) -> str:
    """The applicant's right index finger on the activation scanner (a fresh impression of the
    same simulated person the recording captured), as base64 PNG."""
    seed = simulation_seed(visitor.resident.nik)
    return _b64(render(seed, "finger.right_index", attempt=3).data)


def signature_png(name: str) -> str:
    image = Image.new("L", (240, 80), 255)
    ImageDraw.Draw(image).text((10, 30), name[:30], fill=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return _b64(buf.getvalue())


class PatientTransport(httpx.AsyncBaseTransport):
    """Staff whose screen says "server not reachable" wait and try again, and say so.

    A connection refused or cut (also in the middle of an answer), a timeout, or a 5xx (a
    stage restarting answers 503 until its database and broker are back) is retried with
    backoff, up to ``give_up_s``. Every
    request of the autopilot is safe to send twice: reads and PUTs are idempotent, the
    desk's POSTs carry an Idempotency-Key or are guarded by the state they change (a repeat
    answers 409, which the callers read as "done meanwhile"), and the courier's batch
    reference makes a repeated delivery answer 200.
    """

    def __init__(
        self,
        journal: Journal,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        give_up_s: float = 600.0,
        backoff_max_s: float = 4.0,
    ) -> None:
        self._journal = journal
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._give_up_s = give_up_s
        self._backoff_max_s = backoff_max_s
        self._down: dict[str, tuple[float, int]] = {}  # address → (since, retries)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = f"{request.url.host}:{request.url.port}"
        delay = 0.1
        while True:
            try:
                response = await self._inner.handle_async_request(request)
                try:  # read here: a stage killed while answering cuts the body after its headers
                    await response.aread()
                except BaseException:
                    await response.aclose()  # else its connection never goes back to the pool
                    raise
            except httpx.TransportError as error:
                why = type(error).__name__
            else:
                if response.status_code < 500:
                    self._recovered(address)
                    return response
                await response.aclose()
                why = f"HTTP {response.status_code}"
            since, retries = self._down.get(address, (time.monotonic(), 0))
            if not retries:
                self._journal.note(
                    f"{address} not answering {request.method} {request.url.path} ({why}):"
                    " staff wait and try again"
                )
            if time.monotonic() - since > self._give_up_s:
                raise DemoError(f"{address} has not answered for {self._give_up_s:.0f}s ({why})")
            self._down[address] = (since, retries + 1)
            await asyncio.sleep(delay)
            delay = min(self._backoff_max_s, delay * 2)

    def _recovered(self, address: str) -> None:
        if address in self._down:
            since, retries = self._down.pop(address)
            took = time.monotonic() - since
            self._journal.outages.append((address, took, retries))
            self._journal.note(f"{address} answering again after {took:.1f}s ({retries} retries)")

    async def aclose(self) -> None:
        await self._inner.aclose()


LOGIN_RETRY_S = (2.0, 5.0, 10.0, 20.0, 30.0, 60.0)


class StaffAuth(httpx.Auth):
    """Each request as the staff member it names (``extensions={"staff": user}``, see
    ``Autopilot._as``), logged in once per user; unnamed ones (the Dinas courier booking blanks)
    as the district admin. Every API checks these tokens like any staff member's."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._logins: dict[str, httpx.Auth] = {}

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        user = str(request.extensions.get("staff", staff.DISTRICT_ADMIN))
        if user not in self._logins:
            self._logins[user] = staff.login(self.issuer, user)
        # A refused login (the IdP's brute-force guard briefly disables a user logged in by
        # several clients at once) is tried again after a while, as a person would.
        for wait in (*LOGIN_RETRY_S, None):
            flow = self._logins[user].async_auth_flow(request)
            try:
                sent = await anext(flow)
                while True:
                    answer = yield sent
                    try:
                        sent = await flow.asend(answer)
                    except StopAsyncIteration:
                        return
            except LoginRefused:
                if wait is None:
                    raise
                await asyncio.sleep(wait)


def staff_client(journal: Journal, issuer: str | None = None) -> httpx.AsyncClient:
    """The HTTP client the autopilot's staff use: logged in at ``issuer`` (``StaffAuth``),
    patient with stages that restart."""
    auth = StaffAuth(issuer) if issuer else None
    return httpx.AsyncClient(timeout=30, transport=PatientTransport(journal), auth=auth)


def _check(response: httpx.Response, what: str, *ok: int) -> Any:
    if response.status_code not in (ok or (200, 201)):
        raise DemoError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else None


class Autopilot:
    def __init__(
        self,
        plan: Plan,
        options: topology.Options,
        http: httpx.AsyncClient,
        seen: Seen,
        *,
        day_s: float,
        journal: Journal | None = None,
    ) -> None:
        self.plan = plan
        self.options = options
        self.http = http
        self.courier = Courier(http)
        self.seen = seen
        self.day_s = day_s
        self.journal = journal or Journal()
        self.app_of: dict[str, UUID] = {}  # visitor key → application id
        self.visitor_of: dict[UUID, Visitor] = {}
        self.finished: dict[str, str] = {}  # visitor key → "collected" | "stored"
        self._opened = 0.0

    # ------------------------------------------------------------ urls

    def _as(self, role: str, kecamatan: str) -> dict[str, Any]:
        """A request's ``extensions``: sent as the office's staff member of ``role``."""
        return {"staff": staff.username(role, kecamatan)}

    def _url(self, service: str, path: str) -> str:
        return topology.url(service, self.options) + path

    def _station(self, office: Office, path: str) -> str:
        index = self.options.kecamatan.index(office.kecamatan)
        return topology.station_url(index, self.options) + path

    def _day_clock(self) -> float:
        """Fraction of the office day gone."""
        return (time.monotonic() - self._opened) / self.day_s

    # ------------------------------------------------------------ the day

    async def run_day(self, timeout_s: float) -> None:
        """Open the offices, work until every visitor has collected or left the card, close."""
        for office in self.plan.offices:
            await self._deliver(office, office.morning_stock, "pagi")
        self._opened = time.monotonic()
        self.journal.note("offices open")
        roles: list[Callable[[Office], Awaitable[None]]] = [
            self._front_desk,
            self._corrections,
            self._section_head,
            self._adjudicator,
            self._recording,
            self._stock_keeper,
            self._printer,
            self._collection,
        ]
        tasks = [asyncio.ensure_future(r(o)) for o in self.plan.offices for r in roles]
        total = len(self.plan.visitors)
        try:
            deadline = time.monotonic() + timeout_s
            while len(self.finished) < total:
                for task in tasks:  # a role that failed ends the day with its error
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"the day did not finish in {timeout_s:.0f}s:"
                        f" {len(self.finished)}/{total} visitors done"
                    )
                await asyncio.sleep(POLL_S)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.journal.note("offices closed: every card collected or stored")

    async def _screen(
        self, role: str, service: str, path: str, office: Office, what: str
    ) -> AsyncIterator[list[Any]]:
        """A staff member's screen: the office's list, read again every POLL_S, for ever."""
        while True:
            yield _check(
                await self.http.get(
                    self._url(service, path),
                    params={"kecamatan": office.kecamatan},
                    extensions=self._as(role, office.kecamatan),
                ),
                what,
            )
            await asyncio.sleep(POLL_S)

    # ------------------------------------------------------------ front desk

    async def _submit(self, visitor: Visitor, *, complete: bool) -> bool:
        body = {
            **application_file(visitor, complete=complete, typo=visitor.name_typo),
            "kecamatan": visitor.kecamatan,
            "kk_scan": {"content_base64": _b64(KK_SCAN), "content_type": "application/pdf"},
        }
        response = await self.http.post(
            self._url("intake", "/applications"),
            json=body,
            headers={"Idempotency-Key": f"demo-{self.plan.seed}-{visitor.key}-{int(complete)}"},
            extensions=self._as("desk", visitor.kecamatan),
        )
        if response.status_code == 422 and not complete:
            problems = response.json().get("detail", [])
            for p in problems:
                self.journal.refusal_reasons[p.get("code", "?")] += 1
            self.journal.refused[visitor.kecamatan] += 1
            return False
        receipt = _check(response, f"submitting {visitor.key}", 201)
        app = UUID(receipt["application_id"])
        self.app_of[visitor.key] = app
        self.visitor_of[app] = visitor
        return True

    async def _front_desk(self, office: Office) -> None:
        queue = [(v.arrival, v, not v.incomplete_first) for v in office.visitors]
        while queue:
            queue.sort(key=lambda item: item[0])
            at, visitor, complete = queue[0]
            if self._day_clock() < at:
                await asyncio.sleep(min(POLL_S, (at - self._day_clock()) * self.day_s))
                continue
            queue.pop(0)
            if not await self._submit(visitor, complete=complete):
                # home for the missing document; back later the same day
                queue.append((at + 0.15, visitor, True))

    async def _corrections(self, office: Office) -> None:
        done: set[tuple[str, int]] = set()
        async for items in self._screen(
            "desk", "intake", "/corrections", office, "the correction queue"
        ):
            for item in items:
                key = (item["application_id"], item["revision"])
                visitor = self.visitor_of.get(UUID(item["application_id"]))
                if visitor is None or key in done:
                    continue
                body = application_file(visitor, complete=True, typo=False)
                _check(
                    await self.http.put(
                        self._url("intake", f"/applications/{item['application_id']}"),
                        json=body,
                        headers={"Idempotency-Key": f"demo-{self.plan.seed}-fix-{key[0]}-{key[1]}"},
                        extensions=self._as("desk", office.kecamatan),
                    ),
                    f"resubmitting {visitor.key}",
                )
                done.add(key)
                self.journal.corrected[office.kecamatan] += 1

    # ------------------------------------------------------------ section head

    async def _section_head(self, office: Office) -> None:
        staff = f"kasi.{office.kecamatan}"
        async for items in self._screen(
            "kasi", "validation", "/queue", office, "the validation queue"
        ):
            for item in items:
                app, revision = item["application_id"], item["revision"]
                if item["findings"]:
                    action, body = "send-back", {"staff_id": staff, "revision": revision}
                else:
                    action, body = "approve", {"staff_id": staff, "revision": revision}
                response = await self.http.post(
                    self._url("validation", f"/items/{app}/{action}"),
                    json=body,
                    extensions=self._as("kasi", office.kecamatan),
                )
                _check(response, f"{action} {app}", 200, 201, 409)  # 409: decided meanwhile

    async def _adjudicator(self, office: Office) -> None:
        """The section head compares a suspected duplicate with its candidates side by side.
        Every applicant of the demo day is a different simulated person, so a candidate the
        1:N search proposes is a false match: cleared, and the card goes to print. Rare since
        the ABIS ignores the templates' frame blocks (none in 60 rendered people,
        tests/abis/test_rendered.py); kept so that one cannot stall the day."""
        async for cases in self._screen(
            "kasi", "biometric", "/adjudication", office, "the duplicate cases"
        ):
            for case in cases:
                response = await self.http.post(
                    self._url("biometric", f"/adjudication/{case['case_id']}"),
                    json={"decision": "clear", "note": "compared side by side: another person"},
                    extensions=self._as("kasi", office.kecamatan),
                )
                _check(response, f"clearing {case['case_id']}", 200, 409)  # 409: decided
                if response.status_code == 200:
                    self.journal.cleared[office.kecamatan] += 1

    # ------------------------------------------------------------ recording

    async def _recording(self, office: Office) -> None:
        operator = f"operator.rekam.{office.kecamatan}"
        async for items in self._screen(
            "operator", "biometric", "/queue", office, "the recording queue"
        ):
            for item in items:
                visitor = self.visitor_of.get(UUID(item["application_id"]))
                if visitor is None:
                    continue  # the desk has not noted whose file it is yet: next round
                await self._sit_down(office, visitor)
                response = await self.http.post(
                    self._url("biometric", f"/queue/{item['application_id']}/capture"),
                    params={"kecamatan": office.kecamatan},
                    json={"operator_id": operator},
                    timeout=120,
                    extensions=self._as("operator", office.kecamatan),
                )
                _check(response, f"recording {item['tracking_number']}", 200, 201, 409)

    async def _sit_down(self, office: Office, visitor: Visitor) -> None:
        """The applicant at the office's capture devices (the simulator's control): the
        person behind the NIK, so the live finger at activation matches the chip."""
        poor = {"finger.right_index": 1} if visitor.poor_capture else {}
        station = topology.device_url(self.options).format(kecamatan=office.kecamatan)
        response = await self.http.put(
            f"{station}/subject",
            json={"seed": simulation_seed(visitor.resident.nik), "poor_attempts": poor},
        )
        _check(response, f"seating {visitor.key} at the capture devices", 204)

    # ------------------------------------------------------------ station: stock, printer

    async def _deliver(self, office: Office, count: int, label: str) -> None:
        try:  # the Dinas courier hands the batch over through the station's API
            ref = await self.courier.deliver(
                self._station(office, ""), office.kecamatan, count, label
            )
        except DeliveryRefused as exc:
            raise DemoError(str(exc)) from exc
        self.journal.deliveries.append(
            (office.kecamatan, ref, count, time.monotonic() - self.journal.started)
        )

    async def _stock_keeper(self, office: Office) -> None:
        while True:
            card_operator = self._as("card_operator", office.kecamatan)
            stock = _check(
                await self.http.get(self._station(office, "/stock"), extensions=card_operator),
                "stock",
            )
            waiting = _check(
                await self.http.get(
                    self._station(office, "/jobs"),
                    params={"state": "waiting_for_stock"},
                    extensions=card_operator,
                ),
                "jobs waiting for stock",
            )
            if stock["blanks_available"] == 0 and waiting:
                self.journal.run_outs.append(
                    (office.kecamatan, time.monotonic() - self.journal.started)
                )
                self.journal.note(
                    f"{office.kecamatan}: blank cards ran out, {len(waiting)} card(s) waiting;"
                    " the Dinas courier is on the way"
                )
                await asyncio.sleep(self.plan.replenish_delay_s)  # the courier's ride
                needed = (
                    office.cards
                    + 10
                    - sum(d[2] for d in self.journal.deliveries if d[0] == office.kecamatan)
                )
                await self._deliver(office, max(needed, len(waiting) + 5), "susulan")
                self.journal.note(f"{office.kecamatan}: blank cards replenished")
            await asyncio.sleep(POLL_S * 2)

    async def _printer(self, office: Office) -> None:
        if office.printer_stop_after is None:
            return
        # the watcher's tally is plain data, polled like the staff's screens
        printed = office.printer_stop_after
        while self.seen.count("card.printed", office.kecamatan) < printed:  # noqa: ASYNC110
            await asyncio.sleep(POLL_S)
        queue = topology.queue(office.kecamatan, self.options)
        began = time.monotonic() - self.journal.started
        await asyncio.to_thread(cups.stop_printer, queue, "Kertas/ribbon macet (demo)")
        self.journal.note(f"{office.kecamatan}: printer stopped (ribbon jam)")
        await asyncio.sleep(self.plan.printer_stop_s)  # the outage itself
        await asyncio.to_thread(cups.start_printer, queue)
        self.journal.printer_stops.append(
            (office.kecamatan, began, time.monotonic() - self.journal.started)
        )
        self.journal.note(f"{office.kecamatan}: printer running again")

    # ------------------------------------------------------------ collection

    async def _collection(self, office: Office) -> None:
        officer = f"petugas.{office.kecamatan}.02"
        activating: set[UUID] = set()
        async for items in self._screen("desk", "intake", "/handover", office, "the handover list"):
            for item in items:
                app = UUID(item["application_id"])
                visitor = self.visitor_of.get(app)
                if visitor is None or visitor.key in self.finished:
                    continue
                if not visitor.collects_today:
                    if item["state"] == "ready_for_collection" and self._day_clock() >= 1.0:
                        await self._store(visitor, app, officer)
                    continue
                if item["activated"]:
                    await self._hand_over(visitor, app, officer)
                elif app not in activating and await self._activate(office, visitor, app, officer):
                    activating.add(app)

    async def _activate(self, office: Office, visitor: Visitor, app: UUID, officer: str) -> bool:
        response = await self.http.post(
            self._station(office, f"/cards/{app}/activate"),
            json={
                "officer_id": officer,
                "pin": f"{(visitor.number * 7919) % 1_000_000:06d}",
                "fingerprint_image_b64": await asyncio.to_thread(live_finger, visitor),
            },
            timeout=60,
            extensions=self._as("card_operator", office.kecamatan),
        )
        escalated = response.status_code == 409 and "escalated" in response.text
        if response.status_code == 409 and not escalated:
            return False  # not on the shelf yet: the station is still at it
        result = (
            {"matched": False, "escalated": True}
            if escalated
            else _check(response, f"activating {visitor.key}")
        )
        if not result["matched"]:
            self.journal.failed_matches[office.kecamatan] += 1
        if result["escalated"]:
            # the station holds the card for the section head after too many failed matches
            # (409 when a restart lost that answer): the resident goes home, the card stays
            self.journal.note(f"{visitor.key}: finger not matched; card kept for the kasi")
            await self._store(visitor, app, officer)
        return bool(result["matched"])

    async def _hand_over(self, visitor: Visitor, app: UUID, officer: str) -> None:
        body = {
            "officer_id": officer,
            "presented_nik": visitor.resident.nik,
            "signed_receipt": {
                "image_base64": signature_png(visitor.resident.name),
                "content_type": "image/png",
            },
        }
        response = await self.http.post(
            self._url("intake", f"/applications/{app}/handover"),
            json=body,
            headers={"Idempotency-Key": f"demo-{self.plan.seed}-handover-{app}"},
            extensions=self._as("desk", visitor.kecamatan),
        )
        _check(response, f"handing over {visitor.key}")
        self.finished[visitor.key] = "collected"

    async def _store(self, visitor: Visitor, app: UUID, officer: str) -> None:
        response = await self.http.post(
            self._url("intake", f"/applications/{app}/store"),
            json={"officer_id": officer},
            extensions=self._as("desk", visitor.kecamatan),
        )
        _check(response, f"storing {visitor.key}")
        self.finished[visitor.key] = "stored"

    # ------------------------------------------------------------ the days after

    async def days_after(self, supervisor: Any, timeout_s: float) -> list[Any]:
        """The days after, for the cards left at the office: move the notification service's
        clock to the reminder SMS (1 working day after ready), then to the first call
        (3 working days), and wait each time until the service has acted on every card: the
        reminder SMS and the call list for an applicant with a phone number, the desk list
        (a letter, the RT/RW) for one without."""
        stored = {
            str(app): visitor
            for app, visitor in self.visitor_of.items()
            if self.finished.get(visitor.key) == "stored"
        }
        if not stored:
            self.journal.note("no card left at the office: no reminders")
            return []
        with_phone = {app for app, visitor in stored.items() if visitor.phone}
        deadline = time.monotonic() + timeout_s
        calls: list[Any] = []
        for step, label in ((0, "the SMS reminder"), (1, "the first phone call")):
            due = await self._next_due(set(stored), deadline)
            ahead = due - datetime.now(UTC) + timedelta(minutes=15)
            self.journal.note(
                f"clock moved {ahead.total_seconds() / 86400:.1f} days on"
                f" ({due.astimezone(OfficeHours().zone):%a %d %b %H:%M}): {label} is due"
                f" for {len(stored)} uncollected card(s)"
            )
            await supervisor.restart(
                "notification",
                {
                    **clock.environment(ahead),
                    # the staff's tokens are stamped by the IdP's real clock
                    "TUNTAS_OIDC_LEEWAY_S": str(int(ahead.total_seconds()) + 3600),
                    "TUNTAS_NOTIFICATION_SCHEDULER_POLL_S": "1",
                },
            )
            deadline = time.monotonic() + timeout_s
            while True:
                if step == 0:
                    expected = with_phone
                    got = {m["application_id"] for m in await self._reminders_sent()}
                else:
                    calls = await self._per_office("caller", "/calls")
                    desk = await self._per_office("desk", "/desk-list")
                    expected = set(stored)
                    got = {c["application_id"] for c in calls} & with_phone
                    got |= {d["application_id"] for d in desk} - with_phone
                if expected <= got:
                    break
                if time.monotonic() > deadline:
                    raise DemoError(f"{label} missing for {sorted(expected - got)}")
                await asyncio.sleep(POLL_S * 2)
        self.journal.note(
            f"{len(calls)} card(s) on the call list,"
            f" {len(stored) - len(with_phone)} on the desk list (no phone number)"
        )
        return calls

    async def _per_office(self, role: str, path: str, **params: str) -> list[Any]:
        """One notification list, over every office of the day, each read by its own staff."""
        return [
            row
            for office in self.plan.offices
            for row in await self._get(role, path, kecamatan=office.kecamatan, **params)
        ]

    async def _reminders_sent(self) -> list[Any]:
        """Every reminder SMS of the day, page by page: a busy office has more than one page,
        and its reminders come after its other messages."""
        found: list[Any] = []
        for office in self.plan.offices:
            after = 0
            while True:
                page = await self._get(
                    "caller",
                    "/messages",
                    kecamatan=office.kecamatan,
                    template="uncollected_reminder",
                    after=str(after),
                    limit=str(MESSAGES_PAGE),
                )
                found += page
                if len(page) < MESSAGES_PAGE:
                    break
                after = page[-1]["id"]
        return found

    async def _next_due(self, apps: set[str], deadline: float) -> datetime:
        """When the last of these cards' next reminders falls due, from ``GET /schedule``."""
        while True:
            due: dict[str, datetime] = {}
            for office in self.plan.offices:
                body = await self._get("caller", "/schedule", kecamatan=office.kecamatan)
                due |= {
                    r["application_id"]: datetime.fromisoformat(r["next_due"])
                    for r in body["reminders"]
                    if r["application_id"] in apps
                }
            if set(due) == apps:
                return max(due.values())
            if time.monotonic() > deadline:
                raise DemoError(f"no reminder scheduled for {sorted(apps - set(due))}")
            await asyncio.sleep(POLL_S * 2)

    async def _get(self, role: str, path: str, *, kecamatan: str, **params: str) -> Any:
        """A notification list of one office, read by its staff member of ``role``."""
        url = self._url("notification", path)
        as_staff = self._as(role, kecamatan)
        answer = await self.http.get(
            url, params={"kecamatan": kecamatan, **params}, extensions=as_staff
        )
        return _check(answer, path)
