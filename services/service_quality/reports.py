"""Monthly performance reports: built on demand for any month, and produced once for the
previous month on the first working day of each month."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from services.runtime.db import Conn
from services.runtime.service import Runtime
from services.service_quality import figures, report_pdf, store
from services.service_quality.workflow import Context

log = logging.getLogger("tuntas.service_quality")


def month_span(ctx: Context, month: date) -> tuple[datetime, datetime]:
    """[first day 00:00, next month's first day 00:00) in the office's time zone."""
    zone = ctx.calendar.hours.zone
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return datetime.combine(first, time(), zone), datetime.combine(following, time(), zone)


async def build(conn: Conn, ctx: Context, month: date, kecamatan: str | None) -> figures.Figures:
    start, end = month_span(ctx, month)
    return await _figures(conn, month.replace(day=1), start, end, kecamatan)


# An application open longer than this is past any promised date: older facts are not read.
OPEN_AT_MOST = timedelta(days=120)


async def today(
    conn: Conn, ctx: Context, kecamatan: str | None
) -> tuple[figures.Figures, figures.Now]:
    """Today so far (the office's day) and the pipeline as it stands (the dashboard)."""
    now = ctx.clock.now()
    day = now.astimezone(ctx.calendar.hours.zone).date()
    start = datetime.combine(day, time(), ctx.calendar.hours.zone)
    done = await _figures(conn, day, start, start + timedelta(days=1), kecamatan)
    facts = await store.facts_since(conn, now - OPEN_AT_MOST, kecamatan)
    return done, figures.now(now, facts)


async def _figures(
    conn: Conn, label: date, start: datetime, end: datetime, kecamatan: str | None
) -> figures.Figures:
    return figures.compute(
        label,
        kecamatan or "",
        start,
        end,
        await store.facts_for_month(conn, start, end, kecamatan),
        await store.complaints_received(conn, start, end, kecamatan),
        await store.responses(conn, start, end, kecamatan),
    )


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def first_working_day(ctx: Context, day: date) -> date:
    first = day.replace(day=1)
    return first if ctx.calendar.is_working_day(first) else ctx.calendar.add_working_days(first, 1)


async def produce_due(runtime: Runtime, ctx: Context) -> list[str]:
    """On (or after) this month's first working day, the previous month's reports for every
    kecamatan seen and the district, unless produced already; returns what was produced."""
    now = ctx.clock.now()
    today = now.astimezone(ctx.calendar.hours.zone).date()
    if today < first_working_day(ctx, today):
        return []
    month = previous_month(today)
    produced: list[str] = []
    async with runtime.pool.acquire() as conn:
        done = set(await store.report_months(conn, month))
        for code in [*await store.kecamatan_seen(conn), ""]:
            if code in done:
                continue
            f = await build(conn, ctx, month, code or None)
            await store.save_report(
                conn, month, code, now, report_pdf.to_pdf(f), report_pdf.to_csv(f)
            )
            produced.append(code or "district")
    if produced:
        log.info("monthly reports for %s produced: %s", f"{month:%Y-%m}", ", ".join(produced))
    return produced
