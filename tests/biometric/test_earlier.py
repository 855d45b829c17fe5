"""Earlier records: imported from the national export's file (COPY, with progress), stored
encrypted, found by the skip path's lookup, and handed to the ABIS as one batch; a file with a
bad line is refused whole, each bad line named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from schemas.fingerprint import fingerprint_template, match_score
from services.biometric import earlier, store
from services.biometric.crypto import new_master_key, parse_keyring
from services.biometric.items import Finger
from services.biometric.settings import BiometricSettings
from services.runtime.db import connect
from simulators.capture.earlier import export_line, write_export
from simulators.capture.render import render
from simulators.capture.subjects import simulation_seed

NIKS = ("3508051203900002", "3508055507850001")


def _settings(pg_dsn: str, db_schema: str, keys: str) -> BiometricSettings:
    return BiometricSettings.model_validate(
        {"connections": {"database_url": pg_dsn}, "db_schema": db_schema, "master_keys": keys}
    )


async def test_earlier_records_are_stored_once_and_found_by_nik(
    pg_dsn: str, db_schema: str, tmp_path: Path
) -> None:
    keys = f"1:{new_master_key()}"
    settings = _settings(pg_dsn, db_schema, keys)
    path = tmp_path / "earlier.jsonl"
    assert write_export(NIKS, path) == 2
    assert earlier.check_file(path) == 2
    records = list(earlier.iter_records(path))
    assert [r.nik for r in records] == list(NIKS)
    assert NIKS[0] not in repr(records)

    shown: list[tuple[int, int]] = []
    loaded = await earlier.load(
        settings, "350805", path, date(2013, 5, 2), lambda *p: shown.append(p)
    )
    assert loaded == (2, 0) and shown == [(2, 2)]
    assert await earlier.load(settings, "350805", path, date(2013, 5, 2)) == (0, 2)

    conn: asyncpg.Connection = await connect(pg_dsn, db_schema)
    try:
        found = await store.record_for_nik(conn, NIKS[1])
        assert found is not None and found.kecamatan == "350805"
        captured = await conn.fetchval(
            "SELECT captured_at::date FROM records WHERE nik = $1", NIKS[0]
        )
        assert captured == date(2013, 5, 2)
        # what a card needs is there: photo, signature, and the file's templates
        photo = await store.load_item(conn, parse_keyring(keys), found.record_id, "face")
        photo_and_signature = await conn.fetch(
            "SELECT item FROM items WHERE record_id = $1", found.record_id
        )
        assert photo.media_type == "image/jpeg" and photo.data.startswith(b"\xff\xd8\xff")
        templates = await store.load_templates(
            conn, parse_keyring(keys), found.record_id, list(Finger)
        )
        assert templates == records[1].enrolment.templates and len(templates) == 10
        # only ciphertext at rest: no PNG or JPEG header, no template header in any blob
        plain = await conn.fetchval(
            "SELECT count(*) FROM items WHERE position('\\x89504e47'::bytea in ciphertext) = 1"
            " OR position('\\xffd8ff'::bytea in ciphertext) = 1"
        )
        plain += await conn.fetchval(
            "SELECT count(*) FROM templates WHERE position('TOF1'::bytea in ciphertext) = 1"
        )
        assert plain == 0
        # one batch insert asked of the ABIS for the import (none for the second, empty one)
        asked = await conn.fetch("SELECT payload FROM outbox")
        assert len(asked) == 1
        request = json.loads(asked[0]["payload"])["payload"]
        assert request["operation"] == "insert_batch"
        import_id = await conn.fetchval("SELECT DISTINCT import_id FROM records")
        assert request["reference_url"].endswith(f"/abis/batches/{import_id}")
        # a page mixing a NIK already recorded and a new one: only the new one is stored,
        # with its items and templates; the recorded one keeps its own
        mixed = tmp_path / "mixed.jsonl"
        write_export((NIKS[0], "3508051203900003"), mixed)
        assert await earlier.load(settings, "350805", mixed, date(2013, 5, 2)) == (1, 1)
        per_record = await conn.fetch(
            "SELECT (SELECT count(*) FROM items i WHERE i.record_id = r.record_id) AS items,"
            " (SELECT count(*) FROM templates t WHERE t.record_id = r.record_id) AS templates"
            " FROM records r"
        )
        assert [tuple(row) for row in per_record] == [(len(photo_and_signature), 10)] * 3
        # record ids are time-ordered, so the indexes holding them grow at their right edge
        by_id = await conn.fetch("SELECT nik FROM records ORDER BY record_id")
        assert [row["nik"] for row in by_id] == [*NIKS, "3508051203900003"]
        # sealed photos are stored as they are, not run through pglz first
        storage = await conn.fetchval(
            "SELECT attstorage FROM pg_attribute"
            " WHERE attrelid = 'items'::regclass AND attname = 'ciphertext'"
        )
        assert storage == b"e"  # "char": asyncpg gives bytes
    finally:
        await conn.close()


def test_a_bad_line_refuses_the_whole_file_and_names_the_line(tmp_path: Path) -> None:
    good = json.loads(export_line(NIKS[0]))
    short_nik = {**good, "nik": "35080512039"}
    bad_template = {**good, "nik": NIKS[1], "templates": {"right_thumb": "VE9GMQ=="}}
    path = tmp_path / "earlier.jsonl"
    lines = [json.dumps(good), json.dumps(short_nik), "", json.dumps(bad_template), "{"]
    not_utf8 = b'{"nik": "\xff"}\n'  # named like any other bad line, not a crashed worker
    path.write_bytes(("\n".join(lines) + "\n").encode() + not_utf8)
    with pytest.raises(earlier.RecordsFileError) as refused:
        earlier.check_file(path)
    message = str(refused.value)
    assert "earlier.jsonl:2: NIK must have 16 digits" in message
    assert "earlier.jsonl:4: templates.right_thumb: template too short" in message
    assert "earlier.jsonl:5:" in message
    assert "earlier.jsonl:6: str is not valid UTF-8" in message
    assert "earlier.jsonl:1" not in message


def test_the_exported_templates_match_a_later_live_finger_of_the_same_person(
    tmp_path: Path,
) -> None:
    path = tmp_path / "earlier.jsonl"
    write_export(NIKS, path)
    first, second = earlier.iter_records(path)
    # the demo's live finger at activation: a fresh impression of the NIK's simulated person
    live = fingerprint_template(render(simulation_seed(NIKS[0]), Finger.RIGHT_INDEX.item, 3).data)
    assert match_score(first.enrolment.templates[Finger.RIGHT_INDEX], live) >= 80
    assert match_score(second.enrolment.templates[Finger.RIGHT_INDEX], live) < 80


@pytest.mark.parametrize("lines_a_span", [2.0, 2.5])  # spans end at a line's start, or in it
def test_lines_checked_in_the_worker_processes_are_named_and_returned_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines_a_span: float
) -> None:
    good = json.loads(export_line(NIKS[0]))
    niks = [f"350805120390{serial:04d}" for serial in range(1, 41)]
    lines = [json.dumps({**good, "nik": nik}) for nik in niks]
    # many small spans, shared by the workers
    monkeypatch.setattr(earlier, "SPAN_BYTES", int(lines_a_span * (len(lines[0]) + 1)))
    path = tmp_path / "earlier.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert earlier.check_file(path) == 40
    assert [r.nik for r in earlier.iter_records(path)] == niks

    lines[24] = json.dumps({**good, "nik": "35080512039"})  # line 25
    lines[37] = lines[2]  # line 38: line 3's NIK again
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(earlier.RecordsFileError) as refused:
        earlier.check_file(path)
    assert str(refused.value) == (
        f"{path}:25: NIK must have 16 digits, not 11; {path}:38: the NIK is on an earlier line too"
    )
