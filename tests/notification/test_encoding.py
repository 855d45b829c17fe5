"""GSM 03.38 / UCS-2 encoding and splitting into concatenated parts."""

from __future__ import annotations

import pytest

from services.notification.sms.encoding import (
    GSM7_BASIC,
    DataCoding,
    concat_udh,
    encode_message,
    gsm7_encode,
    is_gsm7,
    pack_septets,
)
from simulators.smsc import decode_text, split_udh


def test_basic_table_has_128_distinct_septets() -> None:
    assert len(GSM7_BASIC) == 128
    assert len(set(GSM7_BASIC)) == 128


def test_gsm7_septets_of_basic_and_extension_characters() -> None:
    assert gsm7_encode("Halo @ 5$_") == b"Halo \x00 5\x02\x11"
    assert gsm7_encode("€") == b"\x1b\x65"
    assert gsm7_encode("[x]") == b"\x1b\x3cx\x1b\x3e"
    assert gsm7_encode("{}\\^~|") == b"\x1b\x28\x1b\x29\x1b\x2f\x1b\x14\x1b\x3d\x1b\x40"


def test_gsm7_rejects_characters_outside_the_alphabet() -> None:
    assert not is_gsm7("Ṣāliḥ")
    with pytest.raises(ValueError, match=r"GSM 03\.38"):
        gsm7_encode("ā")


def test_pack_septets_known_vector() -> None:
    assert pack_septets(gsm7_encode("hellohello")).hex() == "e8329bfd4697d9ec37"


def test_octet_budget_behind_the_part_sizes() -> None:
    # One SMS is 140 octets on air: 160 septets alone, or a 6-octet UDH + 1 fill bit + 153.
    assert len(pack_septets(bytes(160))) == 140
    assert len(concat_udh(1, 2, 1)) + len(pack_septets(bytes(153), fill_bits=1)) == 140
    assert len(concat_udh(1, 2, 1)) + 67 * 2 == 140


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 159 + "€", 2),  # the extension character counts two septets
        ("a" * 158 + "€", 1),
        ("a" * 306, 2),
        ("a" * 307, 3),
    ],
)
def test_gsm7_split_counts_at_boundaries(text: str, parts: int) -> None:
    msg = encode_message(text, ref=7)
    assert msg.data_coding is DataCoding.GSM7
    assert len(msg.parts) == parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [("ā" * 70, 1), ("ā" * 71, 2), ("ā" * 134, 2), ("ā" * 135, 3)],
)
def test_ucs2_split_counts_at_boundaries(text: str, parts: int) -> None:
    msg = encode_message(text, ref=7)
    assert msg.data_coding is DataCoding.UCS2
    assert len(msg.parts) == parts


def test_one_non_gsm_character_makes_the_whole_message_ucs2() -> None:
    msg = encode_message("Yth. Ṣāliḥ, KTP-el Anda sudah jadi.", ref=1)
    assert msg.data_coding is DataCoding.UCS2
    assert msg.parts == ("Yth. Ṣāliḥ, KTP-el Anda sudah jadi.".encode("utf-16-be"),)
    assert msg.esm_class == 0x00


def test_udh_of_each_part() -> None:
    msg = encode_message("a" * 400, ref=300)
    assert msg.esm_class == 0x40
    assert [p[:6] for p in msg.parts] == [bytes([5, 0, 3, 300 % 256, 3, i]) for i in (1, 2, 3)]
    assert [len(p) - 6 for p in msg.parts] == [153, 153, 94]


def test_escape_pair_is_never_split_between_parts() -> None:
    msg = encode_message("a" * 152 + "€" + "b" * 10, ref=1)
    assert msg.parts[0][6:] == b"a" * 152
    assert msg.parts[1][6:] == b"\x1b\x65" + b"b" * 10


def test_surrogate_pair_is_never_split_between_parts() -> None:
    msg = encode_message("ā" * 66 + "😀" + "ā" * 10, ref=1)
    assert msg.parts[0][6:] == ("ā" * 66).encode("utf-16-be")
    assert msg.parts[1][6:].decode("utf-16-be") == "😀" + "ā" * 10


def test_parts_reassemble_to_the_text_on_the_smsc_side() -> None:
    text = "Pemberitahuan [KTP-el] biaya €0, {gratis}. " * 12 + GSM7_BASIC.replace("\x1b", "")
    msg = encode_message(text, ref=9)
    payloads = [split_udh(p) for p in msg.parts]
    assert [c for c, _ in payloads] == [(9, len(msg.parts), i + 1) for i in range(len(msg.parts))]
    assert decode_text(msg.data_coding, b"".join(p for _, p in payloads)) == text


def test_empty_text_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_message("", ref=0)
