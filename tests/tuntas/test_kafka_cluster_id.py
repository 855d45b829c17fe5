"""The local broker's cluster id is handed to Kafka's storage tool as an argument."""

import uuid

import pytest

from tuntas.stack import kafka


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 encodes to "-" as the first base64url character: the storage tool read such an
    # id as an option and refused to format (a CI run failed on it).
    draws = iter([uuid.UUID(bytes=b"\xf8" + b"\x00" * 15), uuid.UUID(int=1)])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(draws))

    cluster_id = kafka._new_cluster_id()

    assert not cluster_id.startswith("-")
    assert cluster_id == "AAAAAAAAAAAAAAAAAAAAAQ"
