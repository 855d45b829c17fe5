"""The image definition's rules, checked without a registry (none is reachable where the tests
run, so the image is not built here): a base pinned to an exact release, a non-root user, only
the service code in the build context, and the entry point the chart relies on."""

from __future__ import annotations

import re
from pathlib import Path

IMAGE = Path(__file__).resolve().parents[2] / "deploy" / "image"


def _instructions() -> list[tuple[str, str]]:
    text = (IMAGE / "Containerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_base_is_pinned_to_an_exact_python_and_debian_release() -> None:
    steps = _instructions()
    (base,) = [value for op, value in steps if op == "ARG" and value.startswith("PYTHON_IMAGE=")]
    exact = r"PYTHON_IMAGE=[\w./-]+:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?"
    assert re.fullmatch(exact, base)
    assert [v for op, v in steps if op == "FROM"] == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]


def test_the_final_stage_runs_as_a_numeric_non_root_user_with_the_chart_entry_point() -> None:
    steps = _instructions()
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [value for op, value in final if op == "USER"]
    assert users and all(re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", u) for u in users)
    assert ("ENTRYPOINT", '["python", "-m"]') in final
    assert not any(op == "ADD" for op, _ in steps)


def test_the_build_context_holds_the_service_code_only() -> None:
    lines = (IMAGE / ".containerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {r[1:] for r in rules if r.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "schemas/**", "services/**"}
