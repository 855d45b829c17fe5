"""The ABIS over real Kafka and PostgreSQL: insert, identify, delete, restart."""

from __future__ import annotations

import base64
import uuid

from schemas.events import AbisOperation as Op
from services.abis.main import serve
from tests.abis.conftest import AbisSettingsFor
from tests.abis.kit import reference_server, request, request_id, responses, templates_of
from tests.kit.stage import serving
from tests.kit.topics import publish, read_topic


async def test_insert_identify_delete_and_restart(
    kafka_bootstrap: str, abis_settings: AbisSettingsFor
) -> None:
    settings = abis_settings()
    first, again, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with reference_server() as refs:
        # one person recorded in Tempeh, then again elsewhere (another impression); a stranger
        refs.held[str(first)] = templates_of("person-a", 1)
        refs.held[str(again)] = templates_of("person-a", 2)
        refs.held[str(other)] = templates_of("person-b", 1)
        inserts = [request(Op.INSERT, r, refs.url(r)) for r in (first, again, other)]
        find_again = request(Op.IDENTIFY, again, target_fpir=0.001, max_results=5)
        find_other = request(Op.IDENTIFY, other, target_fpir=0.001, max_results=5)
        extra = [
            request(Op.PING),
            request(Op.PENDING_JOBS),
            request(Op.INSERT, uuid.uuid4(), refs.url(uuid.uuid4())),
        ]
        async with serving(serve, settings) as served:
            topics = served.runtime.extra["abis"].topics
            # inserts answered before the searches: other references take other partitions
            await publish(kafka_bootstrap, topics, *inserts, *extra)
            await read_topic(kafka_bootstrap, topics.abis_responses, 6)
            await publish(kafka_bootstrap, topics, find_again, find_other)
            answers = responses(await read_topic(kafka_bootstrap, topics.abis_responses, 8))
            assert all(answers[request_id(i)].succeeded for i in inserts)
            duplicate = answers[request_id(find_again)]
            assert [c.reference_id for c in duplicate.candidates] == [first]
            assert answers[request_id(find_other)].candidates == ()
            assert answers[request_id(extra[0])].succeeded
            assert answers[request_id(extra[1])].job_count == 0
            assert answers[request_id(extra[2])].failure_reason == "reference_not_found"
            assert (await served.http.get("/gallery")).json() == {"references": 3}

        # a restart rebuilds the index from the sealed gallery: nothing lost
        async with serving(serve, settings) as served:
            assert (await served.http.get("/gallery")).json() == {"references": 3}
            find = request(Op.IDENTIFY, again, target_fpir=0.001, max_results=5)
            delete = request(Op.DELETE, first)
            after = request(Op.IDENTIFY, again, target_fpir=0.001, max_results=5)
            # one at a time: requests on different references may take different partitions
            for number, sent in enumerate((find, delete, after), start=9):
                await publish(kafka_bootstrap, topics, sent)
                answers = responses(
                    await read_topic(kafka_bootstrap, topics.abis_responses, number)
                )
            assert [c.reference_id for c in answers[request_id(find)].candidates] == [first]
            assert answers[request_id(delete)].succeeded
            assert answers[request_id(after)].candidates == ()
            assert (await served.http.get("/gallery")).json() == {"references": 2}

    # no template ever on Kafka: neither the raw bytes nor their base64 on either topic
    on_kafka = await read_topic(kafka_bootstrap, topics.abis_requests, 9) + await read_topic(
        kafka_bootstrap, topics.abis_responses, 11
    )
    for person, attempt in (("person-a", 1), ("person-a", 2), ("person-b", 1)):
        for template in templates_of(person, attempt).values():
            body = template[5:69]
            assert not any(
                body in value or base64.b64encode(template)[8:72] in value for value in on_kafka
            )
