"""SMS text encoding: GSM 03.38 (GSM-7) or UCS-2, split into concatenated parts with a UDH.

SMPP carries GSM-7 text unpacked (one septet per octet, data_coding 0x00); the SMSC packs it
for the air interface, where one part holds 140 octets. That octet budget is where the
160 / 153 septet and 70 / 67 UCS-2 limits come from (`pack_septets` shows the arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# GSM 03.38 default alphabet, index = septet value; 0x1B is the escape to the extension table.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
ESCAPE = 0x1B
_BASIC_INDEX = {ch: i for i, ch in enumerate(GSM7_BASIC) if i != ESCAPE}

SINGLE_GSM7_SEPTETS = 160
PART_GSM7_SEPTETS = 153
SINGLE_UCS2_UNITS = 70
PART_UCS2_UNITS = 67
MAX_PARTS = 255
ESM_CLASS_UDHI = 0x40


class DataCoding(IntEnum):
    GSM7 = 0x00  # SMSC default alphabet
    UCS2 = 0x08


@dataclass(frozen=True)
class EncodedMessage:
    """What goes into the submit_sm PDUs of one SMS: one body per part (UDH included)."""

    data_coding: DataCoding
    parts: tuple[bytes, ...]

    @property
    def esm_class(self) -> int:
        return ESM_CLASS_UDHI if len(self.parts) > 1 else 0x00


def gsm7_septets(ch: str) -> bytes:
    """The septets for one character (two for extension characters); KeyError if not GSM-7."""
    if ch in _BASIC_INDEX:
        return bytes((_BASIC_INDEX[ch],))
    return bytes((ESCAPE, GSM7_EXTENSION[ch]))


def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC_INDEX or ch in GSM7_EXTENSION for ch in text)


def gsm7_encode(text: str) -> bytes:
    """Unpacked septets; raises ValueError for a character outside GSM 03.38."""
    try:
        return b"".join(gsm7_septets(ch) for ch in text)
    except KeyError as e:
        raise ValueError(f"not in the GSM 03.38 alphabet: {e.args[0]!r}") from None


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets LSB-first into octets, after `fill_bits` padding bits (UDH alignment)."""
    acc, nbits, out = 0, fill_bits, bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def concat_udh(ref: int, total: int, seq: int) -> bytes:
    """UDH with the concatenation IE, 8-bit reference (IEI 0x00): 05 00 03 ref total seq."""
    return bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq))


def _split_gsm7(text: str) -> list[bytes]:
    chunks: list[bytes] = []
    current = b""
    for ch in text:
        septets = gsm7_septets(ch)
        # An escape pair must stay in one part, so a part may end one septet short.
        if len(current) + len(septets) > PART_GSM7_SEPTETS:
            chunks.append(current)
            current = b""
        current += septets
    chunks.append(current)
    return chunks


def _split_ucs2(text: str) -> list[bytes]:
    chunks: list[bytes] = []
    current = b""
    for ch in text:
        units = ch.encode("utf-16-be")  # 4 bytes for a surrogate pair: never split it
        if len(current) + len(units) > PART_UCS2_UNITS * 2:
            chunks.append(current)
            current = b""
        current += units
    chunks.append(current)
    return chunks


def encode_message(text: str, ref: int) -> EncodedMessage:
    """Encode `text` as GSM-7 when every character allows it, else UCS-2; split when too long.

    `ref` is the concatenation reference (mod 256) shared by all parts of this message.
    """
    if not text:
        raise ValueError("empty SMS text")
    if is_gsm7(text):
        coding, body = DataCoding.GSM7, gsm7_encode(text)
        single = len(body) <= SINGLE_GSM7_SEPTETS
        chunks = [body] if single else _split_gsm7(text)
    else:
        coding, body = DataCoding.UCS2, text.encode("utf-16-be")
        single = len(body) <= SINGLE_UCS2_UNITS * 2
        chunks = [body] if single else _split_ucs2(text)
    if len(chunks) == 1:
        return EncodedMessage(coding, (chunks[0],))
    if len(chunks) > MAX_PARTS:
        raise ValueError(f"SMS text needs {len(chunks)} parts, more than {MAX_PARTS}")
    total = len(chunks)
    parts = tuple(concat_udh(ref, total, i) + c for i, c in enumerate(chunks, start=1))
    return EncodedMessage(coding, parts)
