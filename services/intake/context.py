"""What every desk action shares (the runtime, settings, the calendar, the offices), how an
action commits, and the desk's plain reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from schemas.envelope import Envelope
from schemas.regions import Region, Regions, load_regions, lumajang
from schemas.topics import Topics
from schemas.values import InvalidValue, RegionLevel
from schemas.workdays import WorkingCalendar
from services.intake import store
from services.intake.refusals import not_found, refusal
from services.intake.settings import IntakeSettings
from services.runtime import commands, outbox, status
from services.runtime.auth import Identity
from services.runtime.commands import Answer, Command
from services.runtime.db import Conn, caller_scope, in_scope, scoped
from services.runtime.messages import Emit
from services.runtime.service import Runtime


class Desk:
    """What every action shares: the runtime, settings, the calendar and the offices."""

    def __init__(self, runtime: Runtime, settings: IntakeSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.topics = Topics(settings.connections.tuntas_topic_prefix)
        self.calendar = WorkingCalendar()
        self.regions: Regions = (
            load_regions(settings.regions_file) if settings.regions_file else lumajang()
        )

    def office(self, code: str, where: str = "body", path: str = "kecamatan") -> Region:
        try:
            region = self.regions.get(code, RegionLevel.KECAMATAN)
        except InvalidValue as e:
            raise refusal(422, e.code, path, e.message_id, e.message_en, where=where) from None
        if region is None:
            raise refusal(
                422,
                "unknown_kecamatan",
                path,
                "Kecamatan tidak dikenal di wilayah layanan ini",
                "unknown kecamatan for this deployment",
                where=where,
            )
        return region

    async def run(
        self,
        command: Command,
        scope: str | None,
        load: Callable[[Conn], Awaitable[Any]],
        apply: Callable[[Conn, Any], Awaitable[Answer]],
    ) -> Answer:
        """One idempotent command in ``scope`` (a kecamatan; ``None``: every kecamatan, each
        caller says why); after its commit the relay publishes its events at once."""

        async def load_in_scope(conn: Conn) -> Any:
            await scoped(conn, scope)  # the API pool's sessions see no row before this
            return await load(conn)

        answer = await commands.run(self.runtime.pool, command, load_in_scope, apply)
        if not answer.replayed:
            self.runtime.relay.wake()
        return answer

    async def publish(self, conn: Conn, events: Sequence[Envelope]) -> None:
        """Enqueue the events in the caller's transaction and record the transitions."""
        emits = [Emit(self.topics.for_event(e.type, e.kecamatan), e) for e in events]
        await outbox.enqueue(conn, emits)
        await status.record(conn, status.transitions(None, list(events)))


# ---------------------------------------------------------------- reads


async def application(desk: Desk, caller: Identity, application_id: UUID) -> store.Application:
    """One application, if it is in the caller's scope (another office's: not found)."""
    async with caller_scope(desk.runtime.pool, caller) as conn:
        app = await store.get(conn, application_id)
    if app is None:
        raise not_found()
    return app


async def queue(
    desk: Desk, caller: Identity, kecamatan: str, states: Sequence[str]
) -> list[store.Application]:
    """An office's applications in these states, oldest change first (``kecamatan``: the
    office asked for in the query), read in the caller's scope."""
    office = desk.office(kecamatan, where="query")
    async with caller_scope(desk.runtime.pool, caller) as conn:
        return await store.in_states(conn, office.code, states)


async def tracked(desk: Desk, tracking_number: str) -> store.Application | None:
    """The public status page: anyone with the number, so every kecamatan on purpose; the
    route shows the state and dates only."""
    async with in_scope(desk.runtime.pool, None) as conn:
        return await store.by_tracking_number(conn, tracking_number)
