"""All SQL of the biometric stage: records, encrypted blobs and templates, data keys, the
applications (the recording queue) and the adjudication cases.

SQL names tables unqualified; the connection's search_path selects the service schema.
Functions take a connection so the caller decides the transaction (the consume loop puts the
inbox row, the record and the outbox event in one).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from uuid6 import uuid7

from schemas.application import ApplicationType
from schemas.events import ApplicationValidated
from schemas.values import mask_nik
from services.biometric.crypto import (
    DataKey,
    MasterKeyring,
    Sealed,
    WrappedDataKey,
    new_data_key,
    open_sealed,
    reseal,
    rewrap,
    seal,
    unwrap,
)
from services.biometric.enrolment import Enrolment
from services.biometric.items import Capture, Finger
from services.biometric.quality import CaptureException, ExceptionReason
from services.biometric.rules import Decision, State
from services.runtime.db import Conn

MIGRATIONS = Path(__file__).parent / "migrations"


def new_record_id() -> uuid.UUID:
    """A record's id: time-ordered (UUIDv7), so every index that holds it (records, items,
    templates) grows at its right edge. Random ids scattered a 700,000-record import's inserts
    over indexes larger than PostgreSQL's buffers, each page written again after every
    checkpoint."""
    return uuid7()


log = logging.getLogger("tuntas.biometric.store")


class AlreadyRecorded(Exception):
    """The NIK already has a biometric record."""


class NotFound(Exception):
    pass


def reference(kecamatan: str, record_id: uuid.UUID) -> str:
    """The claim check events carry instead of biometric bytes."""
    return f"bio://{kecamatan}/{record_id}"


def _template_item(finger: Finger) -> str:
    # distinct from the image's item kind, so a template blob cannot pass for an image
    return f"template.{finger.value}"


@dataclass(frozen=True)
class SavedRecord:
    record_id: uuid.UUID
    kecamatan: str
    reference: str


async def record_exists_for_nik(conn: Conn, nik: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM records WHERE nik = $1)", nik))


async def _wrapped_key(
    conn: Conn, kecamatan: str, version: int | None, *, lock: str = ""
) -> WrappedDataKey | None:
    row = await conn.fetchrow(
        "SELECT kecamatan, version, master_version, nonce, wrapped FROM data_keys"
        " WHERE kecamatan = $1 AND ($2::int IS NULL OR version = $2)"
        f" ORDER BY version DESC LIMIT 1 {lock}",
        kecamatan,
        version,
    )
    return None if row is None else WrappedDataKey(**dict(row))


async def _insert_wrapped(conn: Conn, wrapped: WrappedDataKey) -> None:
    await conn.execute(
        "INSERT INTO data_keys (kecamatan, version, master_version, nonce, wrapped)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        wrapped.kecamatan,
        wrapped.version,
        wrapped.master_version,
        wrapped.nonce,
        wrapped.wrapped,
    )


async def _current_data_key(conn: Conn, keyring: MasterKeyring, kecamatan: str) -> DataKey:
    # FOR SHARE: a concurrent data-key rotation (FOR UPDATE) waits for this save, and v.v.
    wrapped = await _wrapped_key(conn, kecamatan, None, lock="FOR SHARE")
    if wrapped is None:
        # first record of this kecamatan; a concurrent first save may win the insert
        _, fresh = new_data_key(kecamatan, 1, keyring)
        await _insert_wrapped(conn, fresh)
        wrapped = await _wrapped_key(conn, kecamatan, None, lock="FOR SHARE")
        assert wrapped is not None
    return unwrap(wrapped, keyring)


async def _data_key(conn: Conn, keyring: MasterKeyring, kecamatan: str, version: int) -> DataKey:
    wrapped = await _wrapped_key(conn, kecamatan, version)
    if wrapped is None:
        raise NotFound(f"data key {kecamatan} v{version}")
    return unwrap(wrapped, keyring)


async def save_record(
    conn: Conn,
    keyring: MasterKeyring,
    *,
    nik: str,
    kecamatan: str,
    enrolment: Enrolment,
    captured_at: datetime,
    record_id: uuid.UUID | None = None,
) -> SavedRecord:
    """Store a finished enrolment, encrypted. Raises `AlreadyRecorded` if the NIK has one."""
    record_id = record_id or new_record_id()
    async with conn.transaction():
        key = await _current_data_key(conn, keyring, kecamatan)
        inserted = await conn.fetchval(
            "INSERT INTO records (record_id, nik, kecamatan, captured_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (nik) DO NOTHING RETURNING record_id",
            record_id,
            nik,
            kecamatan,
            captured_at,
        )
        if inserted is None:
            raise AlreadyRecorded(f"NIK {mask_nik(nik)} already has a biometric record")
        await conn.executemany(
            "INSERT INTO record_exceptions (record_id, item, reason, attempts)"
            " VALUES ($1, $2, $3, $4)",
            [(record_id, e.item, e.reason.value, e.attempts) for e in enrolment.exceptions],
        )
        # AES-GCM over a dozen images: off the event loop
        item_rows, template_rows = await asyncio.to_thread(_seal_all, key, record_id, enrolment)
        await conn.executemany(
            "INSERT INTO items (record_id, item, media_type, quality, key_version, nonce,"
            " ciphertext) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            item_rows,
        )
        await conn.executemany(
            "INSERT INTO templates (record_id, finger, key_version, nonce, ciphertext)"
            " VALUES ($1, $2, $3, $4, $5)",
            template_rows,
        )
    log.info(
        "biometric record %s saved for NIK %s in kecamatan %s: %d items, %d exceptions",
        record_id,
        mask_nik(nik),
        kecamatan,
        len(enrolment.captures),
        len(enrolment.exceptions),
    )
    return SavedRecord(record_id, kecamatan, reference(kecamatan, record_id))


def _seal_all(
    key: DataKey, record_id: uuid.UUID, enrolment: Enrolment
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    rid = str(record_id)
    item_rows: list[tuple[object, ...]] = []
    for capture in enrolment.captures:
        sealed = seal(key, rid, capture.item, capture.data)
        item_rows.append(
            (
                record_id,
                capture.item,
                capture.media_type,
                capture.quality,
                sealed.key_version,
                sealed.nonce,
                sealed.ciphertext,
            )
        )
    template_rows: list[tuple[object, ...]] = []
    for finger, template in enrolment.templates.items():
        sealed = seal(key, rid, _template_item(finger), template)
        template_rows.append(
            (record_id, finger.value, sealed.key_version, sealed.nonce, sealed.ciphertext)
        )
    return item_rows, template_rows


async def copy_records(
    conn: Conn,
    keyring: MasterKeyring,
    *,
    kecamatan: str,
    records: Sequence[tuple[str, Enrolment]],
    captured_at: datetime,
    import_id: uuid.UUID,
) -> int:
    """Store many (NIK, enrolment) at once, encrypted as `save_record` does. NIKs that already
    have a record are left alone. Returns how many were stored.

    Only ``records`` goes through a staging table: COPY cannot write a table under row-level
    security, nor skip a NIK already recorded. ``items`` and ``templates`` (nearly all the
    bytes) are not under it (their rows follow a record by id), so the new records' sealed
    rows are COPYed straight in, each byte written once."""
    columns = ("record_id", "nik", "kecamatan", "captured_at", "import_id")
    async with conn.transaction():
        key = await _current_data_key(conn, keyring, kecamatan)
        ids = [new_record_id() for _ in records]
        await conn.execute(
            f"CREATE TEMP TABLE staged_records ON COMMIT DROP"
            f" AS SELECT {', '.join(columns)} FROM records WITH NO DATA"
        )
        await conn.copy_records_to_table(
            "staged_records",
            records=[
                (rid, nik, kecamatan, captured_at, import_id)
                for rid, (nik, _) in zip(ids, records, strict=True)
            ],
            columns=list(columns),
        )
        inserted = {
            row["record_id"]
            for row in await conn.fetch(
                f"INSERT INTO records ({', '.join(columns)}) SELECT * FROM staged_records"
                " ON CONFLICT (nik) DO NOTHING RETURNING record_id"
            )
        }
        fresh = [(rid, e) for rid, (_, e) in zip(ids, records, strict=True) if rid in inserted]
        sealed = await asyncio.to_thread(lambda: [_seal_all(key, rid, e) for rid, e in fresh])
        await conn.copy_records_to_table(
            "items",
            records=[row for item_rows, _ in sealed for row in item_rows],
            columns=[
                "record_id", "item", "media_type", "quality", "key_version", "nonce", "ciphertext"
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "templates",
            records=[row for _, template_rows in sealed for row in template_rows],
            columns=["record_id", "finger", "key_version", "nonce", "ciphertext"],
        )
    return len(inserted)


async def imported_templates(
    conn: Conn,
    keyring: MasterKeyring,
    import_id: uuid.UUID,
    fingers: Collection[Finger],
    *,
    after: uuid.UUID | None,
    limit: int,
) -> dict[uuid.UUID, dict[Finger, bytes]]:
    """A page of one import's records (by record id, after ``after``): their templates of
    these fingers, decrypted."""
    rows = await conn.fetch(
        "SELECT r.record_id, r.kecamatan, t.finger, t.key_version, t.nonce, t.ciphertext"
        " FROM (SELECT record_id, kecamatan FROM records WHERE import_id = $1"
        "       AND ($2::uuid IS NULL OR record_id > $2) ORDER BY record_id LIMIT $3) r"
        " LEFT JOIN templates t ON t.record_id = r.record_id AND t.finger = ANY($4::text[])"
        " ORDER BY r.record_id",
        import_id,
        after,
        limit,
        [f.value for f in fingers],
    )
    keys: dict[tuple[str, int], DataKey] = {}
    for row in rows:
        key_id = (row["kecamatan"], row["key_version"])
        if row["finger"] is not None and key_id not in keys:
            keys[key_id] = await _data_key(conn, keyring, *key_id)
    # thousands of AES-GCM openings: off the event loop
    return await asyncio.to_thread(_open_templates, rows, keys)


def _open_templates(
    rows: Sequence[Any], keys: dict[tuple[str, int], DataKey]
) -> dict[uuid.UUID, dict[Finger, bytes]]:
    out: dict[uuid.UUID, dict[Finger, bytes]] = {}
    for row in rows:
        found = out.setdefault(row["record_id"], {})
        if row["finger"] is None:  # every compared finger an exception
            continue
        finger = Finger(row["finger"])
        sealed = Sealed(row["key_version"], row["nonce"], row["ciphertext"])
        key = keys[(row["kecamatan"], row["key_version"])]
        found[finger] = open_sealed(key, str(row["record_id"]), _template_item(finger), sealed)
    return out


async def record_for_nik(conn: Conn, nik: str) -> SavedRecord | None:
    """The NIK's existing record, if any."""
    row = await conn.fetchrow("SELECT record_id, kecamatan FROM records WHERE nik = $1", nik)
    if row is None:
        return None
    return SavedRecord(
        row["record_id"], row["kecamatan"], reference(row["kecamatan"], row["record_id"])
    )


async def get_record(conn: Conn, record_id: uuid.UUID) -> SavedRecord | None:
    row = await conn.fetchrow("SELECT kecamatan FROM records WHERE record_id = $1", record_id)
    if row is None:
        return None
    return SavedRecord(record_id, row["kecamatan"], reference(row["kecamatan"], record_id))


async def digests(conn: Conn, record_id: uuid.UUID) -> tuple[dict[str, str], dict[Finger, str]]:
    """sha256 (hex) of each stored ciphertext of a record: items, then templates by finger."""
    items = await conn.fetch(
        "SELECT item, encode(sha256(ciphertext), 'hex') AS d FROM items WHERE record_id = $1",
        record_id,
    )
    templates = await conn.fetch(
        "SELECT finger, encode(sha256(ciphertext), 'hex') AS d FROM templates WHERE record_id = $1",
        record_id,
    )
    return {r["item"]: r["d"] for r in items}, {Finger(r["finger"]): r["d"] for r in templates}


async def load_templates(
    conn: Conn, keyring: MasterKeyring, record_id: uuid.UUID, fingers: Collection[Finger]
) -> dict[Finger, bytes]:
    """The decrypted templates of these fingers of one record (missing fingers are absent)."""
    rows = await conn.fetch(
        "SELECT r.kecamatan, t.finger, t.key_version, t.nonce, t.ciphertext"
        " FROM templates t JOIN records r USING (record_id)"
        " WHERE t.record_id = $1 AND t.finger = ANY($2::text[])",
        record_id,
        [f.value for f in fingers],
    )
    out: dict[Finger, bytes] = {}
    for row in rows:
        key = await _data_key(conn, keyring, row["kecamatan"], row["key_version"])
        finger = Finger(row["finger"])
        sealed = Sealed(row["key_version"], row["nonce"], row["ciphertext"])
        out[finger] = open_sealed(key, str(record_id), _template_item(finger), sealed)
    return out


async def load_item(conn: Conn, keyring: MasterKeyring, record_id: uuid.UUID, item: str) -> Capture:
    """One artefact, decrypted. `NotFound` if the record has no such item (e.g. an exception)."""
    row = await conn.fetchrow(
        "SELECT r.kecamatan, i.media_type, i.quality, i.key_version, i.nonce, i.ciphertext"
        " FROM items i JOIN records r USING (record_id)"
        " WHERE i.record_id = $1 AND i.item = $2",
        record_id,
        item,
    )
    if row is None:
        raise NotFound(f"{item} of record {record_id}")
    key = await _data_key(conn, keyring, row["kecamatan"], row["key_version"])
    sealed = Sealed(row["key_version"], row["nonce"], row["ciphertext"])
    data = open_sealed(key, str(record_id), item, sealed)
    return Capture(item, data, row["media_type"], row["quality"])


async def load_exceptions(conn: Conn, record_id: uuid.UUID) -> list[CaptureException]:
    rows = await conn.fetch(
        "SELECT item, reason, attempts FROM record_exceptions WHERE record_id = $1 ORDER BY item",
        record_id,
    )
    return [CaptureException(r["item"], ExceptionReason(r["reason"]), r["attempts"]) for r in rows]


async def rotate_master_key(conn: Conn, keyring: MasterKeyring) -> int:
    """Re-wrap every data key not under the keyring's current master version.

    Blobs are untouched (they are under the data keys). Afterwards the old master key can be
    removed from configuration. Returns the number of data keys re-wrapped."""
    count = 0
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT kecamatan, version, master_version, nonce, wrapped FROM data_keys"
            " WHERE master_version <> $1 FOR UPDATE",
            keyring.current,
        )
        for row in rows:
            fresh = rewrap(WrappedDataKey(**dict(row)), keyring)
            await conn.execute(
                "UPDATE data_keys SET master_version = $3, nonce = $4, wrapped = $5"
                " WHERE kecamatan = $1 AND version = $2",
                fresh.kecamatan,
                fresh.version,
                fresh.master_version,
                fresh.nonce,
                fresh.wrapped,
            )
            count += 1
    return count


async def rotate_data_key(
    conn: Conn, keyring: MasterKeyring, kecamatan: str, *, batch: int = 200
) -> int:
    """Give `kecamatan` a new data key and re-encrypt its blobs and templates under it.

    Batched, one transaction per batch, so a large kecamatan does not hold one huge
    transaction; new saves use the new key at once. Old key versions are deleted when no blob
    needs them any more. Safe to re-run after an interruption. Returns blobs re-encrypted."""
    async with conn.transaction():
        current = await _wrapped_key(conn, kecamatan, None, lock="FOR UPDATE")
        if current is None:
            return 0  # nothing stored for this kecamatan
        new, wrapped = new_data_key(kecamatan, current.version + 1, keyring)
        await _insert_wrapped(conn, wrapped)

    old_keys: dict[int, DataKey] = {}
    count = 0
    for table, item_col in (("items", "item"), ("templates", "finger")):
        while True:
            async with conn.transaction():
                rows = await conn.fetch(
                    f"SELECT b.record_id, b.{item_col} AS item, b.key_version, b.nonce,"
                    f" b.ciphertext FROM {table} b JOIN records r USING (record_id)"
                    " WHERE r.kecamatan = $1 AND b.key_version < $2"
                    " LIMIT $3 FOR UPDATE OF b SKIP LOCKED",
                    kecamatan,
                    new.version,
                    batch,
                )
                if not rows:
                    break
                for row in rows:
                    version = row["key_version"]
                    if version not in old_keys:
                        old_keys[version] = await _data_key(conn, keyring, kecamatan, version)
                    old = old_keys[version]
                    item = row["item"] if table == "items" else _template_item(Finger(row["item"]))
                    sealed = reseal(
                        old,
                        new,
                        str(row["record_id"]),
                        item,
                        Sealed(row["key_version"], row["nonce"], row["ciphertext"]),
                    )
                    await conn.execute(
                        f"UPDATE {table} SET key_version = $3, nonce = $4, ciphertext = $5"
                        f" WHERE record_id = $1 AND {item_col} = $2",
                        row["record_id"],
                        row["item"],
                        sealed.key_version,
                        sealed.nonce,
                        sealed.ciphertext,
                    )
                count += len(rows)

    await conn.execute(
        "DELETE FROM data_keys d WHERE d.kecamatan = $1 AND d.version < $2"
        " AND NOT EXISTS (SELECT 1 FROM items i JOIN records r USING (record_id)"
        "   WHERE r.kecamatan = d.kecamatan AND i.key_version = d.version)"
        " AND NOT EXISTS (SELECT 1 FROM templates t JOIN records r USING (record_id)"
        "   WHERE r.kecamatan = d.kecamatan AND t.key_version = d.version)",
        kecamatan,
        new.version,
    )
    return count


# ---------------------------------------------------------------- applications


@dataclass(frozen=True)
class Application:
    application_id: uuid.UUID
    kecamatan: str
    nik: str
    tracking_number: str
    application_type: ApplicationType
    validated: ApplicationValidated
    validated_message_id: uuid.UUID
    state: State
    skipped: bool
    record_id: uuid.UUID | None
    operator_id: str | None
    received_at: datetime

    def __repr__(self) -> str:  # keep the NIK and biodata out of logs and tracebacks
        return f"Application({self.application_id}, kecamatan={self.kecamatan}, {self.state})"


_COLUMNS = (
    "application_id, kecamatan, nik, tracking_number, application_type, validated,"
    " validated_message_id, state, skipped, record_id, operator_id, received_at"
)


def _application(row: Any) -> Application:
    """A row of ``_COLUMNS``: the columns as stored, the enums and the event parsed."""
    return Application(
        **{
            **row,
            "application_type": ApplicationType(row["application_type"]),
            "validated": ApplicationValidated.model_validate(row["validated"]),
            "state": State(row["state"]),
        }
    )


async def insert_application(
    conn: Conn,
    *,
    application_id: uuid.UUID,
    kecamatan: str,
    validated: ApplicationValidated,
    validated_message_id: uuid.UUID,
    state: State,
    record_id: uuid.UUID | None = None,
    skipped: bool = False,
) -> bool:
    """Add an application; False if this stage already has it (nothing changes then)."""
    inserted = await conn.fetchval(
        "INSERT INTO applications (application_id, kecamatan, nik, tracking_number,"
        " application_type, validated, validated_message_id, state, skipped, record_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (application_id) DO NOTHING RETURNING application_id",
        application_id,
        kecamatan,
        validated.applicant.nik,
        validated.tracking_number,
        validated.application_type.value,
        validated.model_dump(mode="json"),
        validated_message_id,
        state.value,
        skipped,
        record_id,
    )
    return inserted is not None


async def application_exists(conn: Conn, application_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE application_id = $1)",
            application_id,
        )
    )


async def _applications(conn: Conn, where: str, *args: Any) -> list[Application]:
    """The applications ``where`` selects (the SQL after WHERE: ORDER BY, LIMIT, FOR UPDATE)."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM applications WHERE {where}", *args)
    return [_application(r) for r in rows]


async def get_application(
    conn: Conn, application_id: uuid.UUID, *, lock: bool = False
) -> Application | None:
    where = "application_id = $1" + (" FOR UPDATE" if lock else "")
    found = await _applications(conn, where, application_id)
    return found[0] if found else None


async def queue(conn: Conn, kecamatan: str, limit: int = 200) -> list[Application]:
    """The recording queue of one kecamatan, oldest first."""
    where = "state = 'queued' AND kecamatan = $1 ORDER BY received_at, application_id LIMIT $2"
    return await _applications(conn, where, kecamatan, limit)


async def set_state(
    conn: Conn,
    application_id: uuid.UUID,
    state: State,
    *,
    record_id: uuid.UUID | None = None,
    operator_id: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE applications SET state = $2, record_id = COALESCE($3, record_id),"
        " operator_id = COALESCE($4, operator_id), updated_at = now()"
        " WHERE application_id = $1",
        application_id,
        state.value,
        record_id,
        operator_id,
    )


async def claim_for_auto_capture(conn: Conn, limit: int, retry_after_s: float) -> list[uuid.UUID]:
    """Queued applications for the automatic operator, each taken by one instance at a time
    (a claim older than ``retry_after_s`` is taken again: its instance died or failed)."""
    rows = await conn.fetch(
        "UPDATE applications SET auto_claimed_at = now() WHERE application_id IN ("
        "  SELECT application_id FROM applications WHERE state = 'queued'"
        "  AND (auto_claimed_at IS NULL"
        "       OR auto_claimed_at < now() - make_interval(secs => $2))"
        "  ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING application_id",
        limit,
        retry_after_s,
    )
    return [r["application_id"] for r in rows]


async def released_to(conn: Conn, record_id: uuid.UUID, kecamatan: str) -> bool:
    """Was this record released for printing to this kecamatan's station?"""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE record_id = $1"
            " AND kecamatan = $2 AND state = 'print_ready')",
            record_id,
            kecamatan,
        )
    )


async def record_blocked(conn: Conn, record_id: uuid.UUID) -> bool:
    """Is this record awaiting its 1:N answer, under an open duplicate case, or a confirmed
    duplicate?"""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM adjudication_cases WHERE record_id = $1"
            " AND (decision IS NULL OR decision = 'confirm'))"
            " OR EXISTS (SELECT 1 FROM applications WHERE record_id = $1"
            " AND state = 'dedupe_pending')",
            record_id,
        )
    )


async def awaiting_dedupe(conn: Conn, record_id: uuid.UUID) -> Application | None:
    """The application whose record awaits the ABIS's identify answer, locked."""
    found = await _applications(
        conn, "record_id = $1 AND state = 'dedupe_pending' FOR UPDATE", record_id
    )
    return found[0] if found else None


async def kecamatan_of(conn: Conn, record_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Where each of these records was taken (records the stage does not hold are absent)."""
    rows = await conn.fetch(
        "SELECT record_id, kecamatan FROM records WHERE record_id = ANY($1::uuid[])",
        list(record_ids),
    )
    return {r["record_id"]: r["kecamatan"] for r in rows}


async def cancel(conn: Conn, application_id: uuid.UUID) -> bool:
    """Take a cancelled application off the queues; False if it was not waiting there."""
    result = await conn.execute(
        "UPDATE applications SET state = 'cancelled', updated_at = now()"
        " WHERE application_id = $1"
        " AND state IN ('queued', 'dedupe_pending', 'duplicate_suspected')",
        application_id,
    )
    return str(result).split()[-1] != "0"


# ---------------------------------------------------------------- adjudication cases


@dataclass(frozen=True)
class Case:
    case_id: str
    application_id: uuid.UUID
    kecamatan: str
    record_id: uuid.UUID
    candidates: Sequence[dict[str, Any]]  # [{record_id, kecamatan, score}], best first
    decision: Decision | None
    officer_id: str | None
    opened_at: datetime
    decided_at: datetime | None


def _case(row: Any) -> Case:
    """A row of ``_CASE_COLUMNS``: the columns as stored, the decision parsed."""
    return Case(**{**row, "decision": Decision(row["decision"]) if row["decision"] else None})


_CASE_COLUMNS = (
    "case_id, application_id, kecamatan, record_id, candidates, decision, officer_id,"
    " opened_at, decided_at"
)


async def open_case(
    conn: Conn,
    *,
    case_id: str,
    application_id: uuid.UUID,
    kecamatan: str,
    record_id: uuid.UUID,
    candidates: Sequence[dict[str, Any]],
) -> None:
    await conn.execute(
        "INSERT INTO adjudication_cases (case_id, application_id, kecamatan, record_id,"
        " candidates) VALUES ($1, $2, $3, $4, $5)",
        case_id,
        application_id,
        kecamatan,
        record_id,
        list(candidates),
    )


async def _cases(conn: Conn, where: str, *args: Any) -> list[Case]:
    rows = await conn.fetch(f"SELECT {_CASE_COLUMNS} FROM adjudication_cases WHERE {where}", *args)
    return [_case(r) for r in rows]


async def open_cases(conn: Conn, kecamatan: str, limit: int = 200) -> list[Case]:
    where = "decision IS NULL AND kecamatan = $1 ORDER BY opened_at, case_id LIMIT $2"
    return await _cases(conn, where, kecamatan, limit)


async def get_case(conn: Conn, case_id: str, *, lock: bool = False) -> Case | None:
    found = await _cases(conn, "case_id = $1" + (" FOR UPDATE" if lock else ""), case_id)
    return found[0] if found else None


async def decide(
    conn: Conn, case_id: str, decision: Decision, officer_id: str, note: str | None
) -> None:
    await conn.execute(
        "UPDATE adjudication_cases SET decision = $2, officer_id = $3, note = $4,"
        " decided_at = now() WHERE case_id = $1",
        case_id,
        decision.value,
        officer_id,
        note,
    )
