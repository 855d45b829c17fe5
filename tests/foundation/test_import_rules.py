"""The import rules `make lint` checks name every stage: a new stage cannot slip past them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# Not stages: the runtime they share and the console, a front end over their HTTP APIs (two
# contracts of its own: it imports no stage, no stage imports it).
NOT_STAGES = {"runtime", "console"}


def _stages() -> set[str]:
    return {
        f"services.{d.name}"
        for d in (ROOT / "services").iterdir()
        if (d / "__init__.py").exists() and d.name not in NOT_STAGES
    }


def test_every_contract_about_the_stages_names_every_stage() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    stages = _stages()
    assert {"services.intake", "services.card_production"} <= stages
    about_stages = [
        c
        for c in config["contracts"]
        if "services.intake" in c.get("modules", []) + c.get("forbidden_modules", [])
    ]
    assert len(about_stages) == 5, [c["name"] for c in about_stages]
    for contract in about_stages:
        named = set(contract.get("modules", []) + contract.get("forbidden_modules", []))
        assert named == stages, (contract["name"], sorted(stages ^ named))
