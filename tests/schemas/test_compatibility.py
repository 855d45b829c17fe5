"""The checked-in JSON Schemas are current, and every golden sample of every version still
parses with today's models (readers of older messages keep working)."""

import json
from pathlib import Path

import pytest

from schemas.envelope import parse_event
from schemas.events import EVENT_TYPES
from schemas.export import GOLDEN_DIR, JSONSCHEMA_DIR, expected_jsonschema_files, golden_path
from schemas.samples import SAMPLE_PAYLOADS

GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*/v*.json"))


def test_checked_in_json_schemas_are_up_to_date() -> None:
    expected = expected_jsonschema_files()
    actual = {p.name: p.read_text(encoding="utf-8") for p in JSONSCHEMA_DIR.glob("*.json")}
    assert actual.keys() == expected.keys(), "run: python -m schemas.export"
    stale = [name for name in expected if actual[name] != expected[name]]
    assert not stale, f"stale JSON Schemas {stale}; run: python -m schemas.export"


def test_every_event_type_has_a_sample_and_a_golden_of_its_current_version() -> None:
    assert SAMPLE_PAYLOADS.keys() == EVENT_TYPES.keys()
    missing = [t for t, m in EVENT_TYPES.items() if not golden_path(t, m.version).exists()]
    assert not missing, f"no golden sample for {missing}; run: python -m schemas.export"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_samples_parse_with_the_current_models(path: Path) -> None:
    envelope = parse_event(path.read_bytes())
    assert envelope.type == path.parent.name
    assert f"v{envelope.schema_version}" == path.stem
    assert envelope.schema_version <= EVENT_TYPES[envelope.type].version


def test_json_schema_describes_the_whole_message() -> None:
    schema = json.loads((JSONSCHEMA_DIR / "record.print_ready.json").read_text(encoding="utf-8"))
    assert schema["properties"]["type"]["const"] == "record.print_ready"
    assert schema["x-schema-version"] == 1 and schema["x-producer"] == "biometric"
    assert set(schema["required"]) >= {"message_id", "type", "occurred_at", "payload", "kecamatan"}
    assert "RecordPrintReady" in schema["$defs"]
