"""Session fixtures: a real Kafka and a real PostgreSQL for every test that needs them.

Where they come from, in order: the environment (``KAFKA_BOOTSTRAP_SERVERS`` and
``DATABASE_URL``, e.g. after ``eval "$(tuntas stack env)"``); testcontainers when a Docker
engine answers; else the project's own local stack, started on free ports in a throwaway folder
and stopped at the end of the session. Each test gets unique topic and schema names.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

# The card station's devices (one pcscd, one chip slot, one CUPS queue per test run), here so
# that every folder shares the same session fixtures: a second copy (tests/console) started a
# second pcscd under the run's name while the first still held its reader ports.
from tests.card_production.hardware_fixtures import *  # noqa: F403
from tuntas.stack import local, prereq

# ``oidc_env``: a served stage's staff routes verify tokens from the session's IdP.
pytest_plugins = ["tests.kit.tokens"]


@dataclass(frozen=True)
class Components:
    kafka_bootstrap: str
    pg_dsn: str
    origin: str  # "environment", "testcontainers" or "local stack"


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # any failure means: no engine to use
        return False
    return True


def _from_testcontainers(stack: ExitStack) -> Components:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    from tuntas.stack.kafka import kafka_version

    kafka = stack.enter_context(KafkaContainer(f"apache/kafka:{kafka_version()}").with_kraft())
    pg = stack.enter_context(PostgresContainer("postgres:17", driver=None))
    return Components(kafka.get_bootstrap_server(), pg.get_connection_url(), "testcontainers")


def _from_local_stack(stack: ExitStack) -> Components:
    home = Path(tempfile.mkdtemp(prefix="tuntas-test-stack-"))
    config = local.StackConfig(
        home=home,
        cache=local.StackConfig.from_env().cache,
        kafka_port=prereq.free_port(),
        controller_port=prereq.free_port(),
        pg_port=prereq.free_port(),
    )
    stack.callback(local.down, config)
    endpoints = local.up(config)
    return Components(endpoints.kafka_bootstrap, endpoints.database_url, "local stack")


@pytest.fixture(scope="session")
def components() -> Iterator[Components]:
    env_kafka, env_db = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    with ExitStack() as stack:
        if env_kafka and env_db:
            yield Components(env_kafka, env_db, "environment")
        elif _docker_answers():
            yield _from_testcontainers(stack)
        else:
            yield _from_local_stack(stack)


@pytest.fixture(scope="session")
def kafka_bootstrap(components: Components) -> str:
    return components.kafka_bootstrap


@pytest.fixture(scope="session")
def pg_dsn(components: Components) -> str:
    return components.pg_dsn


@pytest.fixture
async def db_schema(pg_dsn: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL schema for this test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        yield name
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
def topic_prefix() -> str:
    """A prefix that makes this test's topic names its own."""
    return f"t{uuid.uuid4().hex[:10]}."


# Keycloak starts in ~40 s on a quiet machine and took over 120 s (pytest-timeout's per-test
# limit) beside a chaos run: the first test to need it then failed in setup, and with it every
# test after it that needs staff tokens. That test alone gets the start's own deadline too.
KEYCLOAK_START_S = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("TUNTAS_OIDC_ISSUER"):
        return  # a running identity provider: nothing to start
    first = next((i for i in items if "oidc_issuer" in getattr(i, "fixturenames", ())), None)
    if first is not None:
        first.add_marker(pytest.mark.timeout(KEYCLOAK_START_S + 120))


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    """The staff identity provider (tests/identity): ``TUNTAS_OIDC_ISSUER`` when set, else the
    stack's Keycloak with the ``tuntas`` realm, started once on a free port in a throwaway
    folder and stopped at the end of the session."""
    issuer = os.environ.get("TUNTAS_OIDC_ISSUER")
    if issuer:
        yield issuer
        return
    from tuntas.stack.keycloak import KeycloakNode

    home = Path(tempfile.mkdtemp(prefix="tuntas-test-keycloak-"))
    node = KeycloakNode(home, local.StackConfig.from_env().cache, prereq.free_port())
    try:
        node.start(timeout=KEYCLOAK_START_S)
        yield node.issuer
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)
