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
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.envelope import Envelope
from schemas.events import AbisOperation, AbisRequested
from schemas.fingerprint import TemplateError, check_template
from schemas.topics import Topics
from schemas.values import (
    InvalidValue,
    RegionLevel,
    parse_nik,
    parse_region_code,
    today_in_indonesia,
)
from services.biometric import store
from services.biometric.enrolment import Enrolment
from services.biometric.items import FACE, SIGNATURE, Capture, Finger
from services.biometric.keys import check_keyring, load_keyring
from services.biometric.settings import SERVICE, BiometricSettings
from services.runtime import db, logs, outbox
from services.runtime.messages import Emit

log = logging.getLogger("tuntas.biometric.earlier")


class RecordsFileError(ValueError):
    pass


class _Image(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    media_type: Literal["image/jpeg", "image/png"]
    quality: Annotated[int, Field(ge=0, le=100)]
    data: str


class _Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    nik: str
    photo: _Image
    signature: _Image
    templates: dict[Finger, str]


@dataclass(frozen=True)
class EarlierRecord:
    nik: str
    enrolment: Enrolment

    def __repr__(self) -> str:  # no NIK, no biometric bytes in logs
        return f"EarlierRecord(templates={len(self.enrolment.templates)})"


def _b64(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(f"{where}: not base64") from None


def _record(text: str, today: date) -> EarlierRecord:
    line = _Line.model_validate(json.loads(text))
    parse_nik(line.nik, today=today)
    captures = tuple(
        Capture(item, _b64(image.data, item), image.media_type, image.quality)
        for item, image in ((FACE, line.photo), (SIGNATURE, line.signature))
    )
    templates = {f: _b64(t, f"templates.{f.value}") for f, t in line.templates.items()}
    for finger, template in templates.items():
        try:
            check_template(template)
        except TemplateError as error:
            raise ValueError(f"templates.{finger.value}: {error}") from None
    return EarlierRecord(line.nik, Enrolment(captures, templates, (), {}))


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open() as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield number, text


def check_file(path: Path) -> int:
    """Read the whole file once, storing nothing; the number of records, or `RecordsFileError`
    naming every bad line."""
    problems: list[str] = []
    seen: set[str] = set()
    today = today_in_indonesia()
    for number, text in _lines(path):
        try:
            record = _record(text, today)
        except InvalidValue as error:
            problems.append(f"{path}:{number}: {error.message_en}")
            continue
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            problems.append(f"{path}:{number}: {where}: {first['msg']}")
            continue
        except ValueError as error:  # JSON, base64, template format
            problems.append(f"{path}:{number}: {error}")
            continue
        if record.nik in seen:
            problems.append(f"{path}:{number}: the NIK is on an earlier line too")
        seen.add(record.nik)
    if problems:
        raise RecordsFileError("; ".join(problems))
    return len(seen)


def iter_records(path: Path) -> Iterator[EarlierRecord]:
    """The records of a file `check_file` accepted."""
    today = today_in_indonesia()
    return (_record(text, today) for _, text in _lines(path))


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
    total = check_file(path)
    keyring = load_keyring(settings)
    conn = await db.connect(settings.connections.database_url, settings.schema_name)
    stored = done = 0
    try:
        await db.migrate(conn, settings.schema_name, store.MIGRATIONS)
        await check_keyring(conn, keyring)
        captured_at = datetime(captured_on.year, captured_on.month, captured_on.day, tzinfo=UTC)
        records = iter_records(path)
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
                    await outbox.enqueue(conn, [_batch_request(settings, kecamatan, import_id)])
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
