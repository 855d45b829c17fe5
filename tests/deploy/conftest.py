"""The chart's tools, built or fetched once (``make test`` does it before pytest: the first
Helm build takes minutes, hence the long timeout of these tests)."""

from __future__ import annotations

from typing import Any

import pytest

from tuntas.deploy import cli, validate


@pytest.fixture(scope="session")
def render() -> Any:
    """``render(*--set pairs, values=(files...))`` -> the rendered resources."""

    def rendered(*sets: str, values: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return validate.documents(cli.helm_template(values, *sets))

    return rendered
