"""Write the JSON Schema of every event, and golden samples for new event versions.

Run ``python -m schemas.export`` after changing a contract and commit the result:
- ``schemas/jsonschema/<event type>.json``: the whole message (envelope with that payload),
  regenerated every time; a test fails when the checked-in files are stale.
- ``schemas/golden/<event type>/v<version>.json``: a sample message of the current version,
  written only if missing and never overwritten: the compatibility test parses every golden
  file with the current models, so old versions stay readable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import create_model

from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES
from schemas.samples import sample_envelope

HERE = Path(__file__).parent
JSONSCHEMA_DIR = HERE / "jsonschema"
GOLDEN_DIR = HERE / "golden"


def event_json_schema(event_type: str) -> dict[str, Any]:
    """JSON Schema of a whole ``event_type`` message (as validated on read)."""
    payload_model = EVENT_TYPES[event_type]
    model = create_model(
        f"{payload_model.__name__}Event",
        __base__=Envelope,
        payload=(payload_model, ...),
    )
    schema = model.model_json_schema(mode="validation")
    schema["properties"]["type"] = {"const": event_type, "title": "Type", "type": "string"}
    schema["description"] = (payload_model.__doc__ or event_type).strip()
    schema["x-event-type"] = event_type
    schema["x-schema-version"] = payload_model.version
    schema["x-producer"] = payload_model.producer.value
    return schema


def render(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_jsonschema_files() -> dict[str, str]:
    return {f"{name}.json": render(event_json_schema(name)) for name in sorted(EVENT_TYPES)}


def golden_path(event_type: str, version: int) -> Path:
    return GOLDEN_DIR / event_type / f"v{version}.json"


def main() -> int:
    JSONSCHEMA_DIR.mkdir(exist_ok=True)
    expected = expected_jsonschema_files()
    for stale in set(p.name for p in JSONSCHEMA_DIR.glob("*.json")) - expected.keys():
        (JSONSCHEMA_DIR / stale).unlink()
        print(f"removed {stale}")
    for name, text in expected.items():
        (JSONSCHEMA_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(expected)} schemas to {JSONSCHEMA_DIR}")
    for event_type, model in sorted(EVENT_TYPES.items()):
        path = golden_path(event_type, model.version)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                render(json.loads(sample_envelope(event_type).to_bytes())), encoding="utf-8"
            )
            print(f"wrote golden sample {path.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
