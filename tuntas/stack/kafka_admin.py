"""Two admin requests aiokafka's admin client lacks, sent with its protocol layer: SCRAM users
(AlterUserScramCredentials, KIP-554) and ACLs (CreateAcls). Starting Kafka's own JVM tools for
each user would cost seconds apiece; these take milliseconds on the PLAINTEXT (super user)
listener of the local stack."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest_v1
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from tuntas.stack.errors import StackError


class Op(IntEnum):  # Kafka's AclOperation codes
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11


class Resource(IntEnum):  # ResourceType
    TOPIC = 2
    GROUP = 3


class Pattern(IntEnum):  # PatternType
    LITERAL = 3
    PREFIXED = 4


@dataclass(frozen=True, order=True)
class Acl:
    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Op


def scram_salted(password: str, salt: bytes, iterations: int) -> bytes:
    """SCRAM's SaltedPassword: Hi() = PBKDF2 with HMAC-SHA-512 (RFC 5802)."""
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)


SCRAM_SHA_512 = 2  # ScramMechanism code
ITERATIONS = 8192
ALLOW = 3
ANY_HOST = "*"


class _AlterScramResponse(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramStruct(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterScramResponse
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScram(Request[_AlterScramStruct]):  # type: ignore[misc]
    API_KEY = 51

    def __init__(self, upsertions: list[tuple[Any, ...]]) -> None:
        self._upsertions = upsertions

    def build(self, request_struct_class: type[_AlterScramStruct]) -> _AlterScramStruct:
        return request_struct_class([], self._upsertions, {})


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 30

    def __init__(self, creations: list[tuple[Any, ...]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


async def _send(bootstrap: str, request: Request[Any]) -> Any:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        return await client.send(client.get_random_node(), request)
    finally:
        await client.close()


async def upsert_scram_users(bootstrap: str, passwords: Mapping[str, str]) -> None:
    """Create or reset each user's SCRAM-SHA-512 credential (the broker stores only the salted
    password's keys, never the password)."""
    upsertions: list[tuple[Any, ...]] = []
    for name, password in passwords.items():
        salt = os.urandom(32)
        salted = scram_salted(password, salt, ITERATIONS)
        upsertions.append((name, SCRAM_SHA_512, ITERATIONS, salt, salted, {}))
    response = await _send(bootstrap, _AlterScram(upsertions))
    failed = [(user, code, message) for user, code, message, _ in response.results if code]
    if failed:
        raise StackError(f"Kafka refused SCRAM users: {failed}")


async def create_acls(bootstrap: str, acls: Sequence[Acl]) -> None:
    """Add the ALLOW ACLs (existing ones are kept: creating one again changes nothing)."""
    creations = [
        (a.resource, a.name, a.pattern, f"User:{a.principal}", ANY_HOST, a.operation, ALLOW)
        for a in acls
    ]
    for start in range(0, len(creations), 200):
        response = await _send(bootstrap, _CreateAcls(creations[start : start + 200]))
        failed = [r for r in response.creation_responses if r[0]]
        if failed:
            raise StackError(f"Kafka refused ACLs: {failed[:3]}")
