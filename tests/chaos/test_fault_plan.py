"""The fault driver's pure parts and the delay proxy: a round of faults (every process killed
as often as the others, each other kind once, the order named by the seed), the active
KRaft controller from the nodes' quorum-state files, the SLA clock check from event times,
and the proxy adding its delay only while a delay fault lasts."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from schemas.envelope import Envelope
from schemas.events import SlaBreached
from schemas.states import ApplicationState
from schemas.workdays import OfficeHours, WorkingCalendar
from tuntas.chaos import checks, faults
from tuntas.chaos.proxy import DelayProxy
from tuntas.demo.watch import Seen
from tuntas.stack.kafka import KafkaNode
from tuntas.stack.prereq import free_port

WIB = ZoneInfo("Asia/Jakarta")


def test_a_round_kills_every_process_as_often_and_does_each_other_kind_once() -> None:
    plan = faults.FaultPlan(seed=7, kills_per_round=2)
    processes = ["intake", "validation", "station-350805", "chip-350805"]
    others = ["smsc-freeze", "postgres", "delay", "broker", "controller"]
    one = faults.round_of(random.Random(7), plan, processes, ["350805"], others)
    kills = Counter(f.target for f in one if f.kind == "kill")
    assert kills == {p: 2 for p in processes}
    assert Counter(f.kind for f in one if f.kind != "kill") == {k: 1 for k in [*others, "printer"]}
    again = faults.round_of(random.Random(7), plan, processes, ["350805"], others)
    assert one == again  # the seed names the schedule
    other = faults.round_of(random.Random(8), plan, processes, ["350805"], others)
    assert [f.target for f in other] != [f.target for f in one]


def test_the_active_controller_is_the_leader_of_the_highest_epoch(tmp_path: Path) -> None:
    nodes = []
    for node_id, (epoch, leader) in enumerate([(4, 2), (5, 3), (5, 3)], start=1):
        node = KafkaNode(tmp_path / f"n{node_id}", tmp_path, 1, 2, node_id=node_id)
        state = node.home / "data" / "__cluster_metadata-0" / "quorum-state"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"leaderId": leader, "leaderEpoch": epoch}))
        nodes.append(node)
    assert faults.active_controller(nodes) == 3
    assert faults.active_controller([]) is None


def _event(payload: SlaBreached, app: UUID, at: datetime) -> Envelope:
    return Envelope.new(payload, application_id=app, kecamatan="350805", occurred_at=at)


def test_the_sla_check_reads_event_times_and_flags_a_wrong_breach() -> None:
    calendar = WorkingCalendar(OfficeHours(), collective_leave=[], national_holidays=set())
    accepted = datetime(2026, 12, 1, 9, 0, tzinfo=WIB)  # a Tuesday
    deadline = calendar.deadline(accepted)
    seen = Seen()
    on_time, late = uuid4(), uuid4()
    for app, ready_at in (
        (on_time, accepted + timedelta(hours=3)),
        (late, deadline + timedelta(hours=1)),
    ):
        seen.add(_typed("application.accepted", app, accepted))
        seen.add(_typed("card.ready_for_collection", app, ready_at))
    late_breach = SlaBreached(deadline=deadline, state=ApplicationState.ACCEPTED)
    seen.add(_event(late_breach, late, deadline + timedelta(minutes=1)))
    check = checks.sla_clock(seen, calendar)
    assert check.ok, check.problems
    assert check.figure == "1 in 0 working day(s), 1 in 1 working day(s)"
    # accepted after hours (the clock starts the next morning), ready the same evening
    evening = uuid4()
    seen.add(_typed("application.accepted", evening, accepted.replace(hour=19)))
    seen.add(_typed("card.ready_for_collection", evening, accepted.replace(hour=20)))
    assert checks.sla_clock(seen, calendar).figure == (
        "2 in 0 working day(s), 1 in 1 working day(s)"
    )
    # a breach reported for the one that was ready in time is wrong
    seen.add(_event(late_breach.model_copy(), on_time, deadline + timedelta(minutes=1)))
    wrong = checks.sla_clock(seen, calendar)
    assert [p.split(":")[0] for p in wrong.problems] == [str(on_time)]


def _typed(kind: str, app: UUID, at: datetime) -> Envelope:
    """An event of ``kind`` from the golden samples, for ``app`` at ``at``."""
    from schemas.samples import sample_envelope

    event = sample_envelope(kind)
    return event.model_copy(update={"occurred_at": at, "correlation_id": app})


async def test_the_proxy_passes_traffic_and_delays_it_only_during_a_fault() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = free_port()
    async with DelayProxy(port, upstream.sockets[0].getsockname()[1]) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)

        async def round_trip() -> float:
            began = time.monotonic()
            writer.write(b"ping")
            await writer.drain()
            assert await reader.readexactly(4) == b"ping"
            return time.monotonic() - began

        assert await round_trip() < 0.15
        proxy.delay_s = 0.2
        assert await round_trip() >= 0.4  # held each way
        proxy.delay_s = 0
        assert await round_trip() < 0.15
        writer.close()
    upstream.close()


def test_a_corrected_file_may_be_accepted_and_told_so_once_per_revision(tmp_path: Path) -> None:
    # A file sent back and corrected is accepted again (revision 2): two acceptances in
    # intake's history and two "file accepted" SMS are right for it, not for a revision-1 file.
    sent_back, plain = str(uuid4()), str(uuid4())
    revisions = {sent_back: 2, plain: 1}
    outbox = [(sent_back, "file_accepted", "m1"), (sent_back, "file_accepted", "m2")]
    assert checks.sms_once(outbox, tmp_path / "none.jsonl", revisions).ok
    twice = [(plain, "file_accepted", "m3"), (plain, "file_accepted", "m4")]
    assert not checks.sms_once(twice, tmp_path / "none.jsonl", revisions).ok
    ready_twice = [(sent_back, "card_ready", "m5"), (sent_back, "card_ready", "m6")]
    assert not checks.sms_once(ready_twice, tmp_path / "none.jsonl", revisions).ok

    accepted = "intake history application.accepted (out)"
    both = [sent_back, plain]
    assert checks.stage_sources(both, {accepted: [sent_back, sent_back, plain]}, revisions).ok
    found = checks.stage_sources(both, {accepted: [sent_back, plain, plain]}, revisions)
    assert found.problems == [f"{accepted}: {plain} ×2 for 1 revision(s)"]
    assert not checks.stage_sources(both, {accepted: [sent_back]}, revisions).ok


def test_an_sms_marked_sent_but_not_on_the_smsc_log_is_lost(tmp_path: Path) -> None:
    log = tmp_path / "sms.jsonl"
    log.write_text(
        json.dumps({"destination": "+62811", "text": "siap", "message_ids": ["a1", "a2"]}) + "\n"
    )
    arrived = checks.sms_arrived([("app-1", "card_ready", ["a1", "a2"])], log)
    assert arrived.ok and arrived.figure == "1 of 1"
    lost = checks.sms_arrived(
        [("app-1", "card_ready", ["a1", "a2"]), ("app-2", "card_ready", ["b1"])], log
    )
    assert lost.problems == ["app-2 card_ready: SMSC ids b1 not on its log"]
    half = checks.sms_arrived([("app-3", "card_ready", ["a1", "c9"])], log)
    assert not half.ok  # a part missing is a message missing


def test_the_smsc_may_get_a_text_as_often_as_the_outbox_sent_it_not_more(tmp_path: Path) -> None:
    # A corrected file's second "file accepted" SMS has the first one's text (same number,
    # same tracking number): the large day flagged 176 such pairs as sent twice.
    app = str(uuid4())
    text = "Yth. Siti, berkas KTP-el Anda diterima lengkap. No. pelacakan: 350805-20261204-0001."
    log = tmp_path / "sms.jsonl"
    line = {"destination": "+6281234567890", "text": text, "message_ids": ["a"]}
    log.write_text("\n".join(json.dumps(line) for _ in range(2)) + "\n", encoding="utf-8")
    outbox = [(app, "file_accepted", "m1"), (app, "file_accepted", "m2")]
    per_row = [("+6281234567890", text)]
    assert checks.sms_once(outbox, log, {app: 2}, per_row * 2).ok
    resent = checks.sms_once(outbox[:1], log, {app: 1}, per_row)
    assert not resent.ok and "SMSC got 2× what was sent 1×" in resent.problems[0]
