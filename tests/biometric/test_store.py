"""The repository against real PostgreSQL: round trip, ciphertext only, binding, rotation."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

import asyncpg
import pytest

from services.biometric.crypto import DecryptionFailed, MasterKeyring, new_master_key, parse_keyring
from services.biometric.enrolment import enrol
from services.biometric.items import FACE, Finger
from services.biometric.quality import ExceptionReason, QualityPolicy
from services.biometric.rules import record_id_of
from services.biometric.store import (
    AlreadyRecorded,
    NotFound,
    load_exceptions,
    load_item,
    load_templates,
    new_record_id,
    record_exists_for_nik,
    rotate_data_key,
    rotate_master_key,
    save_record,
)
from tests.biometric.conftest import devices_take, enrolled

NIK, NIK_2 = "3508054107850001", "3508051203900002"
KEC, OTHER_KEC = "350805", "350806"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_record_ids_rise_in_the_order_they_are_made() -> None:
    """Within one millisecond too: an import makes thousands a page, and each index holding
    them (records, items, templates) then grows at its right edge only."""
    ids = [new_record_id() for _ in range(5_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {i.version for i in ids} == {7}


async def test_save_and_load_round_trip(conn: asyncpg.Connection, keyring: MasterKeyring) -> None:
    enrolment = enrolled("siti")
    saved = await save_record(
        conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolment, captured_at=NOW
    )
    assert saved.reference == f"bio://{KEC}/{saved.record_id}"
    assert record_id_of(saved.reference) == saved.record_id
    assert saved.reference == f"bio://{KEC}/{saved.record_id}"
    for capture in enrolment.captures:
        assert await load_item(conn, keyring, saved.record_id, capture.item) == capture
    assert await load_templates(conn, keyring, saved.record_id, list(Finger)) == dict(
        enrolment.templates
    )


async def test_exceptions_are_stored_and_the_missing_item_is_not(
    conn: asyncpg.Connection, keyring: MasterKeyring
) -> None:
    enrolment = await enrol(
        devices_take("tono"),
        QualityPolicy(),
        declared={Finger.LEFT_LITTLE: ExceptionReason.AMPUTATED},
    )
    saved = await save_record(
        conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolment, captured_at=NOW
    )
    assert await load_exceptions(conn, saved.record_id) == list(enrolment.exceptions)
    with pytest.raises(NotFound):
        await load_item(conn, keyring, saved.record_id, Finger.LEFT_LITTLE.item)


async def test_record_exists_for_nik_and_one_record_per_nik(
    conn: asyncpg.Connection, keyring: MasterKeyring
) -> None:
    assert not await record_exists_for_nik(conn, NIK)
    await save_record(
        conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolled("siti"), captured_at=NOW
    )
    assert await record_exists_for_nik(conn, NIK)
    assert not await record_exists_for_nik(conn, NIK_2)
    with pytest.raises(AlreadyRecorded) as again:
        await save_record(
            conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolled("tono"), captured_at=NOW
        )
    assert NIK not in str(again.value)


async def _columns(conn: asyncpg.Connection, types: tuple[str, ...]) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND data_type = ANY($1::text[])",
        list(types),
    )
    return [(r["table_name"], r["column_name"]) for r in rows]


async def _holders(conn: asyncpg.Connection, needle: bytes) -> set[str]:
    """Every column of the schema holding `needle`: raw in bytea, hex or base64 in text."""
    found: set[str] = set()
    for table, column in await _columns(conn, ("bytea",)):
        if await conn.fetchval(
            f'SELECT count(*) FROM "{table}" WHERE position($1::bytea IN "{column}") > 0', needle
        ):
            found.add(f"{table}.{column}")
    encodings = [needle.hex(), base64.b64encode(needle).decode()]
    for table, column in await _columns(conn, ("text", "character varying", "jsonb", "json")):
        for text in encodings:
            if await conn.fetchval(
                f'SELECT count(*) FROM "{table}" WHERE strpos("{column}"::text, $1) > 0', text
            ):
                found.add(f"{table}.{column}")
    return found


async def test_database_holds_ciphertext_not_plaintext(
    conn: asyncpg.Connection, keyring: MasterKeyring
) -> None:
    enrolment = enrolled("siti")
    saved = await save_record(
        conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolment, captured_at=NOW
    )
    for capture in enrolment.captures:
        # a 48-byte window from the middle: image data, not a shared PNG/JPEG header
        middle = len(capture.data) // 2
        assert await _holders(conn, capture.data[middle : middle + 48]) == set(), capture.item
    for finger, template in enrolment.templates.items():
        assert await _holders(conn, template[5:]) == set(), finger
    # the search itself works: it finds what is stored, in bytea and in text columns
    face = await conn.fetchval(
        "SELECT ciphertext FROM items WHERE record_id = $1 AND item = 'face'", saved.record_id
    )
    assert await _holders(conn, face[100:148]) == {"items.ciphertext"}
    assert "records.nik" in {
        f"{t}.{c}"
        for t, c in await _columns(conn, ("text",))
        if await conn.fetchval(f'SELECT count(*) FROM "{t}" WHERE "{c}" = $1', NIK)
    }


async def test_blob_moved_to_another_record_or_tenant_does_not_decrypt(
    conn: asyncpg.Connection, keyring: MasterKeyring
) -> None:
    a = await save_record(
        conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolled("siti"), captured_at=NOW
    )
    b = await save_record(
        conn, keyring, nik=NIK_2, kecamatan=OTHER_KEC, enrolment=enrolled("tono"), captured_at=NOW
    )
    # copy A's face ciphertext over B's: B's face must not turn into A's face
    await conn.execute(
        "UPDATE items AS dst SET nonce = src.nonce, ciphertext = src.ciphertext,"
        " key_version = src.key_version FROM items AS src"
        " WHERE src.record_id = $1 AND src.item = 'face' AND dst.record_id = $2"
        " AND dst.item = 'face'",
        a.record_id,
        b.record_id,
    )
    with pytest.raises(DecryptionFailed):
        await load_item(conn, keyring, b.record_id, FACE)
    # relabel A as another kecamatan's record: its blobs no longer decrypt
    await conn.execute(
        "UPDATE records SET kecamatan = $2 WHERE record_id = $1", a.record_id, OTHER_KEC
    )
    with pytest.raises(DecryptionFailed):
        await load_item(conn, keyring, a.record_id, Finger.RIGHT_THUMB.item)


async def test_key_rotation_keeps_data_readable(conn: asyncpg.Connection) -> None:
    k1, k2 = new_master_key(), new_master_key()
    old_ring = parse_keyring(f"1:{k1}")
    enrolment = enrolled("siti")
    saved = await save_record(
        conn, old_ring, nik=NIK, kecamatan=KEC, enrolment=enrolment, captured_at=NOW
    )
    both = parse_keyring(f"1:{k1},2:{k2}")
    assert await rotate_master_key(conn, both) == 1
    assert await rotate_master_key(conn, both) == 0  # idempotent
    new_ring = parse_keyring(f"2:{k2}")  # the old master key is retired
    face = next(c for c in enrolment.captures if c.item == FACE)
    assert await load_item(conn, new_ring, saved.record_id, FACE) == face

    blobs = len(enrolment.captures) + len(enrolment.templates)
    assert await rotate_data_key(conn, new_ring, KEC, batch=5) == blobs
    versions = await conn.fetch("SELECT version FROM data_keys WHERE kecamatan = $1", KEC)
    assert [r["version"] for r in versions] == [2]  # the old data key is gone
    for capture in enrolment.captures:
        assert await load_item(conn, new_ring, saved.record_id, capture.item) == capture
    stored = await load_templates(conn, new_ring, saved.record_id, list(Finger))
    assert stored == dict(enrolment.templates)
    assert await rotate_data_key(conn, new_ring, OTHER_KEC) == 0  # nothing stored there


async def test_log_lines_never_contain_a_full_nik(
    conn: asyncpg.Connection, keyring: MasterKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tuntas.biometric")
    await save_record(
        conn, keyring, nik=NIK, kecamatan=KEC, enrolment=enrolled("siti"), captured_at=NOW
    )
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("tuntas.biometric")]
    assert messages, "save_record logs the saved record"
    assert all(NIK not in m for m in messages)
    assert any("3508********0001" in m for m in messages)
