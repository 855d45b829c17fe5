"""Load biometric records taken before this deployment (the earlier mass recording), so an
applicant already recorded is not recorded again (procedure step 3: record only if not yet
recorded).

    python -m services.biometric.earlier --kecamatan 350805 --records-file earlier.jsonl \\
        [--captured-on 2013-05-02]

``--records-file``: the national export, one JSON object per line (blank lines allowed)::

    {"nik": "3508…", "photo": {"media_type": "image/jpeg", "quality": 80, "data": "<base64>"},
     "signature": {"media_type": "image/png", "quality": 75, "data": "<base64>"},
     "templates": {"right_thumb": "<base64 TOF1>", "right_index": "…", …}}

Every line is checked before anything is stored; bad lines stop the load, each named with its
line number. Records are stored encrypted, as live recordings are. NIKs that already have a
record are left alone and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.fingerprint import TemplateError, match_score
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
from services.runtime import db, logs

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
            match_score(template, template)  # reads the format
        except TemplateError as error:
            raise ValueError(f"templates.{finger.value}: {error}") from None
    return EarlierRecord(line.nik, Enrolment(captures, templates, (), {}))


def read_records(path: Path) -> list[EarlierRecord]:
    """The records of ``path``, each checked; raises `RecordsFileError` naming every bad line."""
    records: list[EarlierRecord] = []
    problems: list[str] = []
    seen: set[str] = set()
    today = today_in_indonesia()
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
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
        records.append(record)
    if problems:
        raise RecordsFileError("; ".join(problems))
    return records


async def load(
    settings: BiometricSettings,
    kecamatan: str,
    records: Sequence[EarlierRecord],
    captured_on: date,
) -> tuple[int, int]:
    """Store every record in ``kecamatan``; return (stored, already recorded)."""
    keyring = load_keyring(settings)
    conn = await db.connect(settings.connections.database_url, settings.schema_name)
    stored = existing = 0
    try:
        await db.migrate(conn, settings.schema_name, store.MIGRATIONS)
        await check_keyring(conn, keyring)
        captured_at = datetime(captured_on.year, captured_on.month, captured_on.day, tzinfo=UTC)
        for record in records:
            if await store.record_exists_for_nik(conn, record.nik):
                existing += 1
                continue
            await store.save_record(
                conn,
                keyring,
                nik=record.nik,
                kecamatan=kecamatan,
                enrolment=record.enrolment,
                captured_at=captured_at,
            )
            stored += 1
    finally:
        await conn.close()
    return stored, existing


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
        records = read_records(args.records_file)
        stored, existing = asyncio.run(load(settings, kecamatan, records, args.captured_on))
    except (RecordsFileError, InvalidValue, OSError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"stored {stored} earlier record(s); {existing} NIK(s) already had one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
