"""The stage as real processes: two instances sharing a group, SIGTERM, a database outage."""

from __future__ import annotations

import signal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.runtime import kafka
from tests.runtime.proc_kit import (
    Proxy,
    Topology,
    assert_exactly_once,
    committed_offsets,
    group_state,
)
from tests.runtime.stage_proc import GIVE_UP_EXIT
from tests.waiting import wait_for


def _topology(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> Topology:
    return Topology(
        kafka_bootstrap, pg_dsn, db_schema, f"{topic_prefix}in", f"{topic_prefix}out", tmp_path
    )


async def _topics(topo: Topology, partitions: int = 3) -> None:
    await kafka.ensure_topics(
        topo.kafka, [(topo.src, partitions), (topo.dst, partitions), (topo.src + ".dlq", 1)]
    )


async def test_two_instances_share_partitions_and_a_killed_ones_move_to_the_other(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    topo = _topology(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path)
    await _topics(topo, partitions=4)
    extra = ["--partitions", "4", "--slow-ms", "5"]
    a, b = await topo.start(extra=extra), await topo.start(extra=extra)

    async def both_joined() -> bool:
        return await group_state(topo.kafka, topo.group) == ("Stable", 2)

    await wait_for(both_joined, what="both instances in the group", timeout=60)
    ids = await topo.produce(300, "before")

    async def both_working() -> bool:
        pids = await topo.fetchval("SELECT count(DISTINCT pid) FROM applied")
        return pids == 2

    await wait_for(both_working, what="both instances applying messages", timeout=60)
    a.signal(signal.SIGKILL)
    assert await a.exited() == -signal.SIGKILL
    ids += await topo.produce(300, "after")  # some land on the dead instance's partitions
    await topo.wait_done(len(ids), b, timeout=90)
    assert await b.stop() == 0, b.tail()
    await assert_exactly_once(topo, ids, max_resends=topo.batch_size)

    # The survivor took over the killed instance's partitions: in each partition, after the
    # kill, only its process applied messages, and every partition got some.
    conn = await asyncpg.connect(topo.dsn, server_settings={"search_path": topo.schema})
    try:
        rows = await conn.fetch(
            "SELECT i.partition, array_agg(DISTINCT a.pid) AS pids FROM applied a"
            " JOIN inbox i USING (message_id) GROUP BY i.partition"
        )
    finally:
        await conn.close()
    assert sorted(r["partition"] for r in rows) == [0, 1, 2, 3]
    taken_over = [
        r["partition"] for r in rows if a.proc.pid in r["pids"] and b.proc.pid in r["pids"]
    ]
    assert taken_over, f"no partition moved from the killed instance: {rows}"


async def test_sigterm_finishes_the_batch_commits_publishes_and_leaves_the_group(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    topo = _topology(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path)
    await _topics(topo)
    ids = await topo.produce(400)
    stage = await topo.start(extra=["--slow-ms", "10"])  # ~200 ms per batch of 20
    await wait_for(
        lambda: topo.fetchval("SELECT count(*) > 0 FROM outbox WHERE sent_at IS NOT NULL"),
        what="the first batch published",
        timeout=60,
    )
    assert await stage.stop() == 0, stage.tail()  # SIGTERM, very likely mid-batch

    applied = await topo.applied()
    assert 0 < len(applied) < len(ids) and set(applied.values()) == {1}
    # What was applied is exactly what was committed, and all of it was published.
    committed = await committed_offsets(topo.kafka, topo.group)
    assert sum(committed.values()) == len(applied)
    assert await topo.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert await group_state(topo.kafka, topo.group) == ("Empty", 0)  # left, no session wait

    stage = await topo.start()
    await topo.wait_done(len(ids), stage)
    assert await stage.stop() == 0
    await assert_exactly_once(topo, ids, max_resends=0)


async def test_database_outage_retries_then_exits_non_zero_without_committing(
    kafka_bootstrap: str, pg_dsn: str, db_schema: str, topic_prefix: str, tmp_path: Path
) -> None:
    topo = _topology(kafka_bootstrap, pg_dsn, db_schema, topic_prefix, tmp_path)
    await _topics(topo)
    url = urlsplit(pg_dsn)
    proxy = Proxy(url.hostname or "127.0.0.1", url.port or 5432)
    await proxy.open()
    netloc = f"{url.username}@127.0.0.1:{proxy.port}" if url.username else f"127.0.0.1:{proxy.port}"
    via_proxy = urlunsplit(url._replace(netloc=netloc))
    retries = ["--max-retries", "3", "--backoff-base", "0.05"]

    ids = await topo.produce(100, "first")
    stage = await topo.start(dsn=via_proxy, extra=retries)
    await topo.wait_done(len(ids), stage)

    await proxy.cut()  # every connection dropped, new ones refused
    more = await topo.produce(100, "second")
    assert await stage.exited() == GIVE_UP_EXIT, stage.tail()
    log = stage.log.read_text()
    assert "transient failure" in log and "retry 3" in log and "gave up after 3 retries" in log
    assert await topo.lag() == len(more)  # nothing of the failed batches committed
    assert len(await topo.applied()) == len(ids)

    await proxy.open()  # the database is back
    stage = await topo.start(dsn=via_proxy, extra=retries)
    await topo.wait_done(len(ids) + len(more), stage)
    assert await stage.stop() == 0
    await assert_exactly_once(topo, ids + more, max_resends=topo.batch_size)
