"""The district's population registry tool: import a resident extract into the stage.

    python -m services.validation.registry import residents.csv

Files are CSV (``address_*`` columns for the address, header first) or JSON (an array of
objects, flat like the CSV or with a nested ``address``), chosen by suffix; the fields are
those of :class:`schemas.residents.RegistryPerson`. An import is all or nothing: one
invalid row and nothing is written (the errors name the rows). A later import of the same
NIK replaces its record (a newer extract wins).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.requirements import problems_from
from schemas.residents import RegistryPerson
from services.runtime import db
from services.validation import store
from services.validation.settings import ValidationSettings

# ---------------------------------------------------------------- files


class RegistryFileError(ValueError):
    """A registry file that cannot be imported; ``problems`` name the rows."""

    def __init__(self, problems: Sequence[str]) -> None:
        shown = list(problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__("invalid registry file:\n" + "\n".join(shown) + more)
        self.problems = list(problems)


def _parse_row(row: dict[str, Any], where: str, problems: list[str]) -> RegistryPerson | None:
    try:
        if "address" in row:
            return RegistryPerson.model_validate(row)
        return RegistryPerson.from_flat(row)
    except ValidationError as e:
        for p in problems_from(e):
            problems.append(f"{where}: {p.path}: {p.message_en}")
    return None


def read_file(path: Path) -> list[RegistryPerson]:
    """Read and check every row; raise :class:`RegistryFileError` listing each bad row."""
    problems: list[str] = []
    persons: list[RegistryPerson] = []
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {"nik", "kk_number", "name"} - set(reader.fieldnames or ())
            if missing:
                raise RegistryFileError([f"header: missing columns {', '.join(sorted(missing))}"])
            for line, row in enumerate(reader, start=2):
                person = _parse_row(dict(row), f"line {line}", problems)
                if person is not None:
                    persons.append(person)
    else:
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise RegistryFileError([f"not valid JSON: {e.msg} at line {e.lineno}"]) from None
        if not isinstance(rows, list):
            raise RegistryFileError(["a JSON registry file is an array of objects"])
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.append(f"item {index}: not an object")
                continue
            person = _parse_row(row, f"item {index}", problems)
            if person is not None:
                persons.append(person)
    seen: set[str] = set()
    for person in persons:
        if person.nik in seen:
            problems.append(f"NIK {person.nik}: listed twice")
        seen.add(person.nik)
    if problems:
        raise RegistryFileError(problems)
    return persons


# ---------------------------------------------------------------- database


async def import_file(path: Path, settings: ValidationSettings) -> int:
    persons = read_file(path)
    schema = settings.schema_name
    conn = await db.connect(settings.connections.database_url, schema)
    try:
        await db.migrate(conn, schema, store.MIGRATIONS)
        return await store.import_persons(conn, persons)
    finally:
        await conn.close()


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.validation.registry",
        description="The validation stage's population registry (resident extract).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import a CSV or JSON resident extract")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--schema", help="database schema (default: TUNTAS_VALIDATION_DB_SCHEMA or 'validation')"
    )
    args = parser.parse_args(argv)

    settings = ValidationSettings()
    if args.schema:
        settings = settings.model_copy(update={"db_schema": args.schema})
    try:
        count = asyncio.run(import_file(args.file, settings))
    except (RegistryFileError, OSError) as e:
        parser.exit(1, f"error: {e}\n")
    print(f"imported {count} residents into {settings.schema_name}.registry_persons")
    return 0


if __name__ == "__main__":
    sys.exit(main())
