"""Fuzz the desk API from its own OpenAPI document (schemathesis + hypothesis): no input may
produce a 5xx. Positive and negative cases, bounded for ``make test``.

More inputs: ``TUNTAS_INTAKE_FUZZ_EXAMPLES=2000 pytest tests/intake/test_fuzz.py -s``.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass, field

import pytest

from tests.intake.kit import Desk, new_card_file

EXAMPLES = int(os.environ.get("TUNTAS_INTAKE_FUZZ_EXAMPLES", "150"))


@dataclass
class Tally:
    tried: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


def fuzz(base_url: str, examples: int, headers: dict[str, str]) -> Tally:
    """Runs in a worker thread: schemathesis's transport is blocking."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    strategy = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    tally = Tally()
    session = requests.Session()
    session.headers.update(headers)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=strategy)
    def one(case: schemathesis.Case) -> None:
        tally.tried += 1
        response = case.call(base_url=base_url, session=session, timeout=20)
        tally.by_status[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:300]}"
            )

    one()
    session.close()
    return tally


# Schemathesis's own strategies use `random` inside hypothesis; not ours to fix.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_fuzzing_the_desk_api_gives_no_server_error(desk: Desk) -> None:
    # Some state to hit: one accepted application (its status and handover paths exist).
    assert (await desk.client.post("/applications", json=new_card_file())).status_code == 201
    base = str(desk.client.base_url).rstrip("/")
    tally = await asyncio.to_thread(fuzz, base, EXAMPLES, desk.bearer())
    print(
        f"\nfuzz: {tally.tried} inputs, statuses {dict(sorted(tally.by_status.items()))}, "
        f"5xx: {len(tally.server_errors)}"
    )
    assert tally.tried >= min(EXAMPLES, 50)
    assert tally.server_errors == []
    health = await desk.client.get("/health")
    assert health.status_code == 200


def _leaves(value: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        found = [path] if path else []
        for key, item in value.items():
            found += _leaves(item, (*path, key))
        return found
    return [path]


def mutate_files(base_url: str, examples: int, headers: dict[str, str]) -> Tally:
    """Hypothesis: a valid file with up to three fields replaced by odd JSON values or dropped."""
    import copy
    import json

    import httpx
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    template = new_card_file()
    paths = _leaves(template)
    odd = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
        st.sampled_from(
            [
                "",
                "\x00",
                "\ud800",
                "9" * 16,
                "0" * 16,
                "2999-01-01",
                "1899-12-31",
                "35.08.05",
                "x" * 5000,
                "ÿ" * 70,
                "3508054107850001",
                "-1",
                "lost",
            ]
        ),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )
    edit = st.tuples(st.sampled_from(paths), st.one_of(st.just("<drop>"), odd))
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(edits=st.lists(edit, min_size=1, max_size=3))
    def one(edits: list[tuple[tuple[str, ...], object]]) -> None:
        body = copy.deepcopy(template)
        for path, value in edits:
            node = body
            for key in path[:-1]:
                if not isinstance(node.get(key), dict):
                    break
                node = node[key]
            else:
                if value == "<drop>":
                    node.pop(path[-1], None)
                else:
                    node[path[-1]] = value
        tally.tried += 1
        content = json.dumps(body, allow_nan=True).encode()
        response = client.post(
            "/applications", content=content, headers={"content-type": "application/json"}
        )
        tally.by_status[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{edits!r} -> {response.status_code}")

    with httpx.Client(base_url=base_url, timeout=20, headers=headers) as client:
        one()
    return tally


async def test_mutated_files_give_no_server_error(desk: Desk) -> None:
    examples = max(EXAMPLES // 2, 20)
    base = str(desk.client.base_url).rstrip("/")
    tally = await asyncio.to_thread(mutate_files, base, examples, desk.bearer())
    print(
        f"\nmutated files: {tally.tried} inputs, statuses "
        f"{dict(sorted(tally.by_status.items()))}, 5xx: {len(tally.server_errors)}"
    )
    assert tally.server_errors == []
