"""A reference URL whose stage is down (killed, restarting) is waited for, not refused: a
refused insert made the identify after it fail and sent the application to the DLQ."""

from __future__ import annotations

import logging
import uuid

import pytest

from schemas.events import AbisOperation as Op
from services.abis.main import serve
from tests.abis.conftest import AbisSettingsFor
from tests.abis.kit import reference_server, request, request_id, responses, templates_of
from tests.kit.stage import serving
from tests.kit.topics import publish, read_topic
from tests.waiting import wait_for
from tuntas.stack.prereq import free_port


async def test_an_insert_waits_for_its_reference_stage_to_come_back(
    kafka_bootstrap: str, abis_settings: AbisSettingsFor, caplog: pytest.LogCaptureFixture
) -> None:
    settings = abis_settings()
    caplog.set_level(logging.WARNING, logger="tuntas.retry")
    port = free_port()  # the reference's stage: not listening yet
    reference = uuid.uuid4()
    insert = request(Op.INSERT, reference, f"http://127.0.0.1:{port}/references/{reference}")
    async with serving(serve, settings) as served:
        topics = served.runtime.extra["abis"].topics
        await publish(kafka_bootstrap, topics, insert)
        await wait_for(
            lambda: "ReferenceUnreachable" in caplog.text, what="the ABIS retrying the reference"
        )
        async with reference_server(port) as refs:  # the stage is back
            refs.held[str(reference)] = templates_of("person-c", 1)
            (answer,) = responses(await read_topic(kafka_bootstrap, topics.abis_responses, 1))
        assert answer == request_id(insert)
        answered = responses(await read_topic(kafka_bootstrap, topics.abis_responses, 1))
        assert answered[answer].succeeded, answered[answer].failure_reason
        assert (await served.http.get("/gallery")).json() == {"references": 1}
