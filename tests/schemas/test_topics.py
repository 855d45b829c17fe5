import pytest

from schemas.base import Service
from schemas.events import EVENT_TYPES
from schemas.regions import lumajang
from schemas.topics import DLQ_RETENTION_MS, Key, Topics
from schemas.values import InvalidValue, RegionLevel

KECAMATAN = [r.code for r in lumajang().children("35.08", RegionLevel.KABUPATEN)]


def test_names_without_and_with_prefix() -> None:
    topics = Topics()
    assert topics.intake_events == "tuntas.intake.events"
    assert topics.validation_events == "tuntas.validation.events"
    assert topics.biometric_events == "tuntas.biometric.events"
    assert topics.card_production_events == "tuntas.card-production.events"
    assert topics.notification_events == "tuntas.notification.events"
    assert topics.stock == "tuntas.card-production.stock"
    assert topics.print_ready("35.08.05") == "tuntas.print-ready.350805"
    assert Topics.dlq(topics.intake_events) == "tuntas.intake.events.dlq"
    assert Topics("t42.").print_ready("350805") == "t42.tuntas.print-ready.350805"
    assert Topics("t42.").intake_events == "t42.tuntas.intake.events"


@pytest.mark.parametrize("prefix", ["with space.", "a/b", "x" * 101])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Topics(prefix)


def test_print_ready_needs_a_real_kecamatan_code() -> None:
    with pytest.raises(InvalidValue):
        Topics().print_ready("35.08")


def test_events_are_routed_by_producer_with_print_work_per_kecamatan() -> None:
    topics = Topics("p.")
    assert topics.for_event("application.accepted", "350805") == "p.tuntas.intake.events"
    assert topics.for_event("application.sent_back", "350805") == "p.tuntas.validation.events"
    assert topics.for_event("biometrics.recorded", "350805") == "p.tuntas.biometric.events"
    assert topics.for_event("record.print_ready", "350801") == "p.tuntas.print-ready.350801"
    assert topics.for_event("record.print_ready", "350805") == "p.tuntas.print-ready.350805"
    assert topics.for_event("card.printed", "350805") == "p.tuntas.card-production.events"
    assert topics.for_event("stock.low", "350805") == "p.tuntas.card-production.stock"
    assert topics.for_event("sla.breached", "350805") == "p.tuntas.notification.events"
    with pytest.raises(KeyError):
        topics.for_event("card.teleported", "350805")


def test_keys() -> None:
    topics = Topics()
    assert topics.key_for("card.printed", "app-1", "350805") == b"app-1"
    assert topics.key_for("stock.level", "app-1", "35.08.05") == b"350805"


def test_catalog_covers_every_event_on_exactly_the_topic_it_is_published_to() -> None:
    topics = Topics()
    specs = {s.name: s for s in topics.specs(KECAMATAN)}
    for event_type in EVENT_TYPES:
        for kec in KECAMATAN:
            name = topics.for_event(event_type, kec)
            assert event_type in specs[name].event_types
            holders = [
                s.name
                for s in specs.values()
                if event_type in s.event_types
                and (not s.name.startswith("tuntas.print-ready.") or s.name == name)
            ]
            assert holders == [name]


def test_catalog_shape() -> None:
    specs = Topics("t.").specs(KECAMATAN)
    names = [s.name for s in specs]
    # six stage topics, the ABIS responses, the stock topic and the ABIS requests
    assert len(names) == len(set(names)) == 2 * (9 + 21)
    main = [s for s in specs if not s.name.endswith(".dlq")]
    for spec in main:
        dlq = next(s for s in specs if s.name == spec.name + ".dlq")
        assert dlq.retention_ms == DLQ_RETENTION_MS and dlq.producers == spec.consumers
        assert spec.producers and spec.consumers and spec.partitions >= 1
        assert spec.config()["cleanup.policy"] == "delete"
        assert spec.key is (
            Key.KECAMATAN if spec.name == "t.tuntas.card-production.stock" else Key.APPLICATION_ID
        )
    print_ready = [s for s in main if ".print-ready." in s.name]
    assert len(print_ready) == 21
    assert all(s.consumers == (Service.CARD_PRODUCTION,) for s in print_ready)
