"""Load biometric records taken before this deployment (the earlier mass recording), so an
applicant already recorded is not recorded again (procedure step 3: record only if not yet
recorded).

    python -m services.biometric.earlier --kecamatan 350805 --records-file earlier.jsonl \\
        [--captured-on 2013-05-02]

``--records-file``: the national export, one JSON object per line (blank lines allowed)::

    {"nik": "3508…", "photo": {"media_type": "image/jpeg", "quality": 80, "data": "<base64>"},
     "signature": {"media_type": "image/png", "quality": 75, "data": "<base64>"},
     "templates": {"right_thumb": "<base64 TOF1>", "right_index": "…", …}}

Every line is checked before anything is stored (a first pass over the file); bad lines stop
the load, each named with its line number. The second pass stores the records encrypted, as
live recordings are, a page at a time with COPY (``store.copy_records``), printing progress;
NIKs that already have a record are left alone and counted. Every ``CHUNK`` records form one
import, and one ``insert_batch`` request asks the ABIS to add it to its gallery: the ABIS
pages through the stage's ``/abis/batches/{import_id}`` while the next chunk loads (the stage
must be running to answer it; docs/abis.md).

Both passes parse in one worker process per core (`earlier_parse`), fed chunks of lines and
answering in file order: in the second pass they parse the next pages while PostgreSQL stores
this one. The encryption stays in this process, inside the page's transaction that holds the
kecamatan's data key (a rotation deletes old key versions, so blobs sealed earlier could end
up under a deleted key).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from datetime import UTC, date, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TypeVar

from schemas.envelope import Envelope
from schemas.events import AbisOperation, AbisRequested
from schemas.topics import Topics
from schemas.values import (
    InvalidValue,
    RegionLevel,
    parse_region_code,
    today_in_indonesia,
)
from services.biometric import store
from services.biometric.earlier_parse import EarlierRecord, Lines, check_lines, parse_lines
from services.biometric.keys import check_keyring, load_keyring
from services.biometric.settings import SERVICE, BiometricSettings
from services.runtime import db, logs, outbox
from services.runtime.messages import Emit
from services.runtime.workers import process_pool

log = logging.getLogger("tuntas.biometric.earlier")


class RecordsFileError(ValueError):
    pass


T = TypeVar("T")
SPAN_BYTES = 8 << 20  # ~300 lines a task: small enough to keep both workers busy
TASKS_AHEAD = 12  # tasks in flight: the next pages parse while a page is stored


def workers() -> ProcessPoolExecutor:
    """One process per core for the parsing, ended with this one however it ends."""
    return process_pool(os.cpu_count())


def _span(
    work: Callable[[Lines], list[T]], path: Path, start: int, end: int
) -> tuple[int, list[T]]:
    """In a worker: ``work`` over the lines that begin in the file's bytes [start, end),
    numbered from 1 within the span; and how many lines that is. The workers read the file
    themselves: sending them the text would cost this process as much as reading it."""
    count, lines = 0, []
    with path.open("rb") as file:
        if start:  # the line under way at ``start`` belongs to the span before
            file.seek(start - 1)
            file.readline()
        while file.tell() < end and (raw := file.readline()):
            count += 1
            if raw.strip():
                lines.append((count, raw))
    return count, work(lines)


def _in_order(
    pool: Executor, work: Callable[[Lines], list[T]], path: Path
) -> Iterator[tuple[int, T]]:
    """``work`` over the file's lines in ``pool``, in file order, each result with the number
    of lines before its span; at most `TASKS_AHEAD` spans ahead, so memory stays bounded."""
    pending: deque[Future[tuple[int, list[T]]]] = deque()
    before = 0

    def take() -> Iterator[tuple[int, T]]:
        nonlocal before
        count, results = pending.popleft().result()
        yield from ((before, result) for result in results)
        before += count

    try:
        for start in range(0, path.stat().st_size, SPAN_BYTES):
            pending.append(pool.submit(_span, work, path, start, start + SPAN_BYTES))
            if len(pending) > TASKS_AHEAD:
                yield from take()
        while pending:
            yield from take()
    finally:  # stopped early (a failure, or the caller left): drop what is not started
        for future in pending:
            future.cancel()


def check_file(path: Path, pool: Executor | None = None) -> int:
    """Read the whole file once, storing nothing; the number of records, or `RecordsFileError`
    naming every bad line. Lines are checked in ``pool`` (default: a new `workers()`)."""
    if pool is None:
        with workers() as own:
            return check_file(path, own)
    problems: list[str] = []
    seen: set[str] = set()
    check = partial(check_lines, today=today_in_indonesia())
    for before, (number, nik, problem) in _in_order(pool, check, path):
        where = f"{path}:{before + number}"
        if nik is None:
            problems.append(f"{where}: {problem}")
            continue
        if nik in seen:
            problems.append(f"{where}: the NIK is on an earlier line too")
        seen.add(nik)
    if problems:
        raise RecordsFileError("; ".join(problems))
    return len(seen)


def iter_records(path: Path, pool: Executor | None = None) -> Iterator[EarlierRecord]:
    """The records of a file `check_file` accepted, parsed in ``pool`` (default: a new
    `workers()`, shut down when the iteration ends)."""
    parse = partial(parse_lines, today=today_in_indonesia())
    if pool is None:
        with workers() as own:
            yield from (record for _, record in _in_order(own, parse, path))
    else:
        yield from (record for _, record in _in_order(pool, parse, path))


Progress = Callable[[int, int], None]  # (records done, of how many)
PAGE = 2_000
CHUNK = 20_000  # records per ABIS batch: the ABIS indexes one while the next one loads


async def load(
    settings: BiometricSettings,
    kecamatan: str,
    path: Path,
    captured_on: date,
    progress: Progress = lambda done, total: None,
) -> tuple[int, int]:
    """Check, then store every record of ``path`` in ``kecamatan`` and ask the ABIS to insert
    them; return (stored, already recorded)."""
    with workers() as pool:  # both passes parse in the same processes
        total = check_file(path, pool)
        keyring = load_keyring(settings)
        conn = await db.connect(settings.connections.database_url, settings.schema_name)
        stored = done = 0
        try:
            await db.migrate(conn, settings.schema_name, store.MIGRATIONS)
            await check_keyring(conn, keyring)
            captured_at = datetime(captured_on.year, captured_on.month, captured_on.day, tzinfo=UTC)
            records = iter_records(path, pool)
            import_id, in_chunk = uuid.uuid4(), 0
            while page := list(islice(records, PAGE)):
                in_chunk += await store.copy_records(
                    conn,
                    keyring,
                    kecamatan=kecamatan,
                    records=[(r.nik, r.enrolment) for r in page],
                    captured_at=captured_at,
                    import_id=import_id,
                )
                done += len(page)
                progress(done, total)
                if done % CHUNK == 0 or done == total:  # a chunk is in: the ABIS may take it
                    if in_chunk:
                        batch = _batch_request(settings, kecamatan, import_id)
                        await outbox.enqueue(conn, [batch])
                    stored += in_chunk
                    import_id, in_chunk = uuid.uuid4(), 0
        finally:
            await conn.close()
    return stored, done - stored


def _batch_request(settings: BiometricSettings, kecamatan: str, import_id: uuid.UUID) -> Emit:
    """The ABIS's insert_batch of this import (published by the running stage's relay)."""
    base = settings.public_url.rstrip("/") or f"http://127.0.0.1:{settings.http_port}"
    request = AbisRequested(
        operation=AbisOperation.INSERT_BATCH,
        request_id=f"import-{import_id}",
        reference_id=import_id,
        reference_url=f"{base}/abis/batches/{import_id}",
    )
    topics = Topics(settings.connections.tuntas_topic_prefix)
    envelope = Envelope.new(request, application_id=import_id, kecamatan=kecamatan)
    return Emit(topics.abis_requests, envelope)


def _progress() -> Progress:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        print(
            f"\r{done:,}/{total:,} records ({rate:,.0f}/s)",
            end="\n" if done == total else "",
            file=sys.stderr,
            flush=True,
        )

    return show


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.biometric.earlier",
        description="Load biometric records taken before this deployment.",
    )
    parser.add_argument("--kecamatan", required=True, help="where they were recorded, e.g. 350805")
    parser.add_argument(
        "--records-file", type=Path, required=True, help="the export: one JSON record per line"
    )
    parser.add_argument(
        "--captured-on", type=date.fromisoformat, default=date(2013, 5, 2), help="YYYY-MM-DD"
    )
    args = parser.parse_args(argv)
    settings = BiometricSettings()
    logs.configure(SERVICE, settings.log_level)
    try:
        kecamatan = parse_region_code(args.kecamatan, RegionLevel.KECAMATAN)
        stored, existing = asyncio.run(
            load(settings, kecamatan, args.records_file, args.captured_on, _progress())
        )
    except (RecordsFileError, InvalidValue, OSError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"stored {stored} earlier record(s); {existing} NIK(s) already had one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
