"""The consume loop: batch in, applied in one or more PostgreSQL transactions, offsets after.

Per batch: parse each record (unparseable ⇒ dead letter); then, step by step, in one
transaction per step, claim the step's message ids in the inbox (seen before ⇒ skipped), run
the handler for each new message, write what it emits to the outbox and the status history,
and commit; publish dead letters; then commit the offsets (``offset + 1``). A crash anywhere
before the offset commit replays the batch, and the inbox makes the replay a no-op for what
was already applied.

A step is the whole batch while transactions are quick, and fewer messages when one ran
longer than ``max_transaction_s`` or was cut (``StepSize``): on a loaded machine a batch of
500 took minutes, and every database restart in those minutes rolled all of it back, again and
again (docs/reliability.md, defect 32).

Failures: a transient error (database or broker away) retries the step with backoff, then
gives up and the process exits non-zero with the step uncommitted. Any other exception from a
handler is a property of that message: the step is replayed with a savepoint per message, and
the failing message alone goes to the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, RebalanceInProgressError

from services.runtime import crashpoints, db, deadletter, inbox, kafka, outbox, status
from services.runtime.db import Conn
from services.runtime.errors import RIDE_THROUGH_RETRIES, is_transient, retrying
from services.runtime.logs import bind
from services.runtime.messages import Emit, Event

E = TypeVar("E", bound=Event)
Handler = Callable[[E, Conn], Awaitable[Sequence[Emit]]]
Parser = Callable[[bytes], E]

log = logging.getLogger("tuntas.consumer")


@dataclass(frozen=True)
class ConsumerConfig:
    service: str
    group_id: str
    topics: Sequence[str]
    bootstrap: str
    max_batch: int = 500
    poll_timeout_ms: int = 200
    max_retries: int = RIDE_THROUGH_RETRIES
    backoff_base: float = 0.2
    backoff_max: float = 5.0
    session_timeout_ms: int = 10_000
    max_transaction_s: float = 2.0  # a step that took longer makes the next one smaller
    # Static membership: a restarted instance takes its partitions back without a rebalance
    # (but leaves no group on shutdown; its partitions wait for the session timeout).
    group_instance_id: str | None = None


@dataclass
class _Applied:
    """What one committed batch transaction did."""

    handled: int = 0
    duplicates: int = 0
    poison: list[deadletter.DeadLetter] = field(default_factory=list)
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)  # (topic, type) handled

    def add(self, other: _Applied) -> None:
        self.handled += other.handled
        self.duplicates += other.duplicates
        self.poison += other.poison
        self.kinds.update(other.kinds)


@dataclass
class StepSize:
    """How many messages the next transaction applies: the whole batch while transactions are
    quick; half as many after one that ran over ``budget_s`` or was cut, twice as many (up to
    ``ceiling``) after one well within it."""

    ceiling: int
    budget_s: float
    size: int = 0

    def __post_init__(self) -> None:
        self.size = self.size or self.ceiling

    def took(self, seconds: float) -> None:
        if seconds > self.budget_s:
            self.size = max(1, self.size // 2)
        elif seconds < self.budget_s / 4:
            self.size = min(self.ceiling, self.size * 2)

    def cut(self) -> None:
        self.size = max(1, self.size // 2)


@dataclass
class ConsumerStats:
    batches: int = 0
    handled: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    last_batch_at: float | None = None
    apply_seconds: float = 0.0  # time in the batch transactions (with retries)
    lag: dict[str, int] = field(default_factory=dict)
    # For /metrics (services.runtime.metrics): handled per (topic, event type), dead per topic.
    handled_by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)
    dead_by_topic: Counter[str] = field(default_factory=Counter)


class _CommitBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Lets a rebalance wait until the batch in hand is applied and its offsets committed."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self._lock:
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


class Consumer(Generic[E]):
    def __init__(
        self,
        config: ConsumerConfig,
        pool: asyncpg.Pool,
        handler: Handler[E],
        parse: Parser[E],
        producer: AIOKafkaProducer,
        relay: outbox.Relay | None = None,
    ) -> None:
        self.config = config
        self._pool = pool
        self._handler = handler
        self._parse = parse
        self._producer = producer
        self._relay = relay
        self._batch_lock = asyncio.Lock()
        self._positions: dict[TopicPartition, int] = {}
        self._step = StepSize(config.max_batch, config.max_transaction_s)
        self.stats = ConsumerStats()
        self._kafka = AIOKafkaConsumer(
            **kafka.security(),
            bootstrap_servers=config.bootstrap,
            group_id=config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=config.max_batch,
            isolation_level="read_committed",
            session_timeout_ms=config.session_timeout_ms,
            group_instance_id=config.group_instance_id,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; finish the batch in hand, commit, leave the group."""
        await self._kafka.start()
        try:
            self._kafka.subscribe(
                list(self.config.topics), listener=_CommitBeforeRevoke(self._batch_lock)
            )
            while not stop.is_set():
                batch = await self._kafka.getmany(
                    timeout_ms=self.config.poll_timeout_ms, max_records=self.config.max_batch
                )
                if batch:
                    async with self._batch_lock:
                        await self._process(batch)
                self._update_lag()
        finally:
            await self._kafka.stop()

    async def _process(self, batch: dict[TopicPartition, list[Any]]) -> None:
        records = [
            r for tp in sorted(batch, key=lambda t: (t.topic, t.partition)) for r in batch[tp]
        ]
        parsed: list[tuple[Any, E]] = []
        poison: list[deadletter.DeadLetter] = []
        for record in records:
            try:
                parsed.append((record, self._parse(record.value)))
            except Exception as error:  # any parse failure makes the record a dead letter
                poison.append(self._dead_letter(record, error))
        started = time.perf_counter()
        applied = _Applied()
        rest = parsed
        while rest:
            done, taken = await retrying(
                self.config.service,
                functools.partial(self._apply_step, rest),
                max_retries=self.config.max_retries,
                backoff_base=self.config.backoff_base,
                backoff_max=self.config.backoff_max,
            )
            applied.add(done)
            rest = rest[taken:]
            if rest and self._relay is not None:
                self._relay.wake()  # what this step emitted need not wait for the batch
        crashpoints.reach("after_db_commit")
        self.stats.apply_seconds += time.perf_counter() - started
        self.stats.handled += applied.handled
        self.stats.duplicates += applied.duplicates
        self.stats.handled_by_kind.update(applied.kinds)
        poison += applied.poison
        if poison:
            await deadletter.send(self._producer, poison)
            self.stats.dead_letters += len(poison)
            self.stats.dead_by_topic.update(letter.source_topic for letter in poison)
            for letter in poison:
                log.warning(
                    "dead-lettered %s[%d]@%d: %s",
                    letter.source_topic,
                    letter.source_partition,
                    letter.source_offset,
                    letter.error,
                )
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        await self._commit(offsets)
        self._positions.update(offsets)
        self.stats.batches += 1
        self.stats.last_batch_at = time.time()
        if self._relay is not None:
            self._relay.wake()

    async def _apply_step(self, rest: list[tuple[Any, E]]) -> tuple[_Applied, int]:
        """Apply the next step of the batch in one transaction: (what it did, how many)."""
        step = rest[: self._step.size]
        started = time.perf_counter()
        try:
            done = await self._apply(step)
        except Exception as error:
            if is_transient(error):
                self._step.cut()  # a shorter transaction is likelier to finish next time
            raise
        self._step.took(time.perf_counter() - started)
        return done, len(step)

    async def _apply(self, parsed: list[tuple[Any, E]]) -> _Applied:
        if not parsed:
            return _Applied()
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    return await self._apply_all(conn, parsed, isolate=False)
            except Exception as error:
                if is_transient(error):
                    raise
                log.warning("batch failed on a message (%s); replaying one by one", error)
            async with conn.transaction():
                return await self._apply_all(conn, parsed, isolate=True)

    async def _apply_all(
        self, conn: Conn, parsed: list[tuple[Any, E]], *, isolate: bool
    ) -> _Applied:
        """Apply the batch in the open transaction. ``isolate``: one savepoint per message, so a
        failing message (its handler, its outbox rows or its status) is set aside alone."""
        # A consumer acts for every kecamatan: it says so, since row-level security shows an
        # unscoped transaction nothing (docs/identity.md).
        await db.scoped(conn, None)
        fresh = await inbox.claim(
            conn, [(ev.message_id, r.topic, r.partition, r.offset) for r, ev in parsed]
        )
        done = _Applied()
        emits: list[Emit] = []
        moves: list[status.Transition] = []
        poisoned: list[UUID] = []
        for record, event in parsed:
            if event.message_id not in fresh:
                done.duplicates += 1
                continue
            fresh.discard(event.message_id)  # the same id twice in one batch: apply once
            with bind(
                application_id=str(event.correlation_id),
                message_id=str(event.message_id),
                causation_id=str(getattr(event, "causation_id", None) or ""),
            ):
                if isolate:
                    try:
                        async with conn.transaction():  # a savepoint
                            out = list(await self._handler(event, conn))
                            await outbox.enqueue(conn, out)
                            await status.record(
                                conn, status.transitions(event, [e.event for e in out])
                            )
                    except Exception as error:
                        if is_transient(error):
                            raise
                        done.poison.append(self._dead_letter(record, error))
                        poisoned.append(event.message_id)
                        continue
                else:
                    out = list(await self._handler(event, conn))
                    emits += out
                    moves += status.transitions(event, [e.event for e in out])
            done.handled += 1
            done.kinds[record.topic, event.type] += 1
            crashpoints.reach("mid_batch")
        await outbox.enqueue(conn, emits)
        await status.record(conn, moves)
        crashpoints.reach("after_outbox_insert")
        if done.poison:
            # A dead-lettered message leaves no inbox row, so its re-drive is applied.
            await conn.execute("DELETE FROM inbox WHERE message_id = ANY($1::uuid[])", poisoned)
        return done

    def _dead_letter(self, record: Any, error: BaseException) -> deadletter.DeadLetter:
        return deadletter.DeadLetter(
            source_topic=record.topic,
            source_partition=record.partition,
            source_offset=record.offset,
            error=f"{type(error).__name__}: {error}",
            service=self.config.service,
            key=record.key,
            value=record.value,
        )

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        # A rebalance may have taken some partitions while the batch was applied: commit the
        # ones still held (one refused partition must not hold back the others' commits).
        held = self._kafka.assignment()
        offsets = {tp: offset for tp, offset in offsets.items() if tp in held}
        if not offsets:
            return
        try:
            await self._kafka.commit(offsets)
        except (CommitFailedError, RebalanceInProgressError, IllegalStateError) as error:
            # The partitions moved on: the new owner replays from the last commit and the
            # inbox drops what this batch already applied.
            log.warning("offset commit refused after a rebalance (%s); replay is safe", error)

    def _update_lag(self) -> None:
        # Rebuilt from the current assignment: a partition lost in a rebalance is the new
        # owner's lag to report, not a stale figure counted twice across the group.
        lag: dict[str, int] = {}
        for tp in self._kafka.assignment():
            high = self._kafka.highwater(tp)
            position = self._positions.get(tp)
            if high is not None and position is not None:
                lag[f"{tp.topic}:{tp.partition}"] = max(0, high - position)
        self.stats.lag = lag
