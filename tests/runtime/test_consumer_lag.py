"""A consumer reports lag only for the partitions it holds now (unit test: the Kafka client is
a stand-in exposing the two reads ``_update_lag`` makes; the real lag path is covered in
tests/runtime/test_metrics.py)."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from services.runtime.consumer import Consumer, ConsumerStats


class _Assigned:
    def __init__(self, highwaters: dict[TopicPartition, int]) -> None:
        self.highwaters = highwaters

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, tp: TopicPartition) -> int:
        return self.highwaters[tp]


def test_a_partition_lost_in_a_rebalance_leaves_the_lag_report() -> None:
    p0, p1 = TopicPartition("t", 0), TopicPartition("t", 1)
    consumer: Any = Consumer.__new__(Consumer)
    consumer.stats = ConsumerStats()
    consumer._positions = {p0: 5, p1: 7}
    consumer._kafka = _Assigned({p0: 9, p1: 10})
    consumer._update_lag()
    assert consumer.stats.lag == {"t:0": 4, "t:1": 3}

    consumer._kafka = _Assigned({p0: 9})  # the group gave partition 1 to another process
    consumer._update_lag()

    assert consumer.stats.lag == {"t:0": 4}
