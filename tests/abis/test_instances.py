"""Two ABIS instances on one gallery (real Kafka and PostgreSQL): what one inserts, deletes or
imports in a batch, the other's identify sees, because identify first reads the gallery's
changes. Each instance consumes its own request topics here, so which one answers a request is
chosen by the test, not by Kafka's partition assignment."""

from __future__ import annotations

import uuid

from schemas.envelope import Envelope
from schemas.events import AbisOperation as Op
from schemas.events import AbisResponded
from schemas.topics import Topics
from services.abis.main import serve
from tests.abis.conftest import AbisSettingsFor
from tests.abis.kit import reference_server, request, request_id, responses, templates_of
from tests.kit.stage import Served, serving
from tests.kit.topics import publish, read_topic
from tests.waiting import wait_for


class Instance:
    """One served ABIS: its requests sent one at a time, each answer awaited."""

    def __init__(self, kafka: str, served: Served) -> None:
        self.kafka, self.served = kafka, served
        self.topics: Topics = served.runtime.extra["abis"].topics
        self.answers: dict[str, AbisResponded] = {}

    async def ask(self, envelope: Envelope) -> list[uuid.UUID]:
        """Send one request; its (successful) answer's candidates."""
        await publish(self.kafka, self.topics, envelope)
        assert await self.answered(envelope, timeout=60)
        answer = self.answers[request_id(envelope)]
        assert answer.succeeded, answer.failure_reason
        return [c.reference_id for c in answer.candidates]

    async def answered(self, envelope: Envelope, timeout: float = 1) -> bool:
        """Whether this instance has answered the request."""
        values = await read_topic(
            self.kafka, self.topics.abis_responses, len(self.answers) + 1, timeout
        )
        self.answers = responses(values)
        return request_id(envelope) in self.answers

    async def gallery(self) -> int:
        return int((await self.served.http.get("/gallery")).json()["references"])

    async def gallery_is(self, count: int) -> bool:
        return await self.gallery() == count


async def _answering(instances: tuple[Instance, ...], envelope: Envelope) -> Instance | None:
    for instance in instances:
        if await instance.answered(envelope):
            return instance
    return None


async def test_each_instance_sees_the_others_inserts_deletes_and_batches(
    kafka_bootstrap: str, topic_prefix: str, abis_settings: AbisSettingsFor
) -> None:
    # one gallery; A follows on a short timer, B only catches up when asked to identify
    on_a = abis_settings(follow_interval_s=0.2)
    on_b = abis_settings(prefix=f"{topic_prefix}b.", follow_interval_s=3600)
    first, again, other, batch = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    imported, stranger = uuid.uuid4(), uuid.uuid4()

    def identify_again() -> Envelope:
        return request(Op.IDENTIFY, again, target_fpir=0.001, max_results=5)

    async with reference_server() as refs:
        # person A recorded on instance A, then again on instance B; a stranger on A
        refs.held[str(first)] = templates_of("person-a", 1)
        refs.held[str(again)] = templates_of("person-a", 2)
        refs.held[str(other)] = templates_of("person-b", 1)
        # an import of earlier records on A: person A once more, and a stranger
        refs.held[str(imported)] = templates_of("person-a", 3)
        refs.held[str(stranger)] = templates_of("person-c", 1)
        refs.batches[str(batch)] = [str(imported), str(stranger)]
        async with serving(serve, on_a) as served_a, serving(serve, on_b) as served_b:
            a, b = Instance(kafka_bootstrap, served_a), Instance(kafka_bootstrap, served_b)
            await a.ask(request(Op.INSERT, first, refs.url(first)))
            await a.ask(request(Op.INSERT, other, refs.url(other)))
            await b.ask(request(Op.INSERT, again, refs.url(again)))

            # B never inserted `first`, and held nothing at its start: it finds it anyway
            assert await b.ask(identify_again()) == [first]
            assert await b.gallery() == 3
            # A's timer follows B's insert
            await wait_for(lambda: a.gallery_is(3), what="A following B's insert")

            await a.ask(request(Op.DELETE, first))
            assert await b.ask(identify_again()) == []
            assert await b.gallery() == 2

            # a batch job is taken by whichever instance's worker comes first (one table)
            insert_batch = request(Op.INSERT_BATCH, batch, refs.batch_url(batch))
            await publish(kafka_bootstrap, a.topics, insert_batch)
            worker = await wait_for(
                lambda: _answering((a, b), insert_batch), timeout=60, what="the batch answered"
            )
            assert worker.answers[request_id(insert_batch)].succeeded
            follower = b if worker is a else a
            assert await follower.ask(identify_again()) == [imported]
            assert await follower.gallery() == 4

        # a restarted instance rebuilds from the changes: the delete stays a delete
        async with serving(serve, on_b) as served_b:
            restarted = Instance(kafka_bootstrap, served_b)
            restarted.answers = b.answers
            assert await restarted.gallery() == 4
            assert await restarted.ask(identify_again()) == [imported]
