"""A stack of its own for the identity tests: the shared test stack's broker has no SASL
listener and its server lets every role in without a password, so the refusals are proven on a
local broker with SCRAM and ACLs and a server with SCRAM passwords, on free ports."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuntas.stack import local, prereq


@pytest.fixture(scope="session")
def secure_stack() -> Iterator[local.Endpoints]:
    home = Path(tempfile.mkdtemp(prefix="tuntas-security-"))
    config = local.StackConfig(
        home=home,
        cache=local.StackConfig.from_env().cache,
        kafka_port=prereq.free_port(),
        controller_port=prereq.free_port(),
        kafka_sasl_port=prereq.free_port(),
        pg_port=prereq.free_port(),
    )
    try:
        endpoints = local.up(config)
        assert endpoints.kafka_sasl_bootstrap and endpoints.secrets
        yield endpoints
    finally:
        local.down(config)
        shutil.rmtree(home, ignore_errors=True)
