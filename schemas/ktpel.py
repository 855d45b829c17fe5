"""The KTP-el chip profile: the card's command set, as published to card vendors and encoder
makers. A contract both sides speak: the card station's encoder (``services/card_production``)
and any chip, real or simulated (``simulators/vchip``), build on it; neither imports the other.

The application and file identifiers are the project's own (the real card's profile is not
public): a proprietary AID under the ``D`` registration category with Indonesia's ISO 3166
numeric code 360, and one transparent EF per data item.
"""

from __future__ import annotations

from enum import IntEnum

AID = bytes.fromhex("D360000001") + b"KTPEL"


class EF(IntEnum):
    """File ids of the application's elementary files."""

    NIK = 0x0101
    BIODATA = 0x0102
    PHOTO = 0x0103
    SIGNATURE = 0x0104
    FINGER_1 = 0x0105
    FINGER_2 = 0x0106
    ACTIVATION = 0x0107


FINGER_EFS = (EF.FINGER_1, EF.FINGER_2)

# Maximum size of each EF in bytes; data EFs hold one BER-TLV (tag DATA_TAG) so a reader
# learns the length from the header and a shorter re-write leaves no stale tail.
EF_SIZES: dict[EF, int] = {
    EF.NIK: 32,
    EF.BIODATA: 2048,
    EF.PHOTO: 16384,
    EF.SIGNATURE: 4096,
    EF.FINGER_1: 1024,
    EF.FINGER_2: 1024,
    EF.ACTIVATION: 1,
}
DATA_TAG = 0x53

PIN_REF = 0x01
PIN_LENGTH = 6
PIN_TRIES = 3
TRANSPORT_PIN = "000000"  # the PIN a blank card leaves the factory with


class Activation(IntEnum):
    """Contents of EF.ACTIVATION (one byte)."""

    BLANK = 0x00
    ENCODED = 0x01  # personalised, PIN still the transport PIN
    ACTIVATED = 0x02  # the holder set a PIN; data EFs are now read-only


# Status words (ISO 7816-4).
SW_OK = 0x9000
SW_EOF = 0x6282  # end of file reached before Le bytes
SW_MEMORY_FAILURE = 0x6581
SW_WRONG_LENGTH = 0x6700
SW_SECURITY = 0x6982
SW_BLOCKED = 0x6983
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND = 0x6A82
SW_NO_MEMORY = 0x6A84
SW_WRONG_P1P2 = 0x6A86
SW_WRONG_OFFSET = 0x6B00
SW_UNKNOWN_INS = 0x6D00
SW_UNKNOWN_CLA = 0x6E00

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_UPDATE_BINARY = 0xD6
INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24

MAX_LC = 255  # short APDUs only
MAX_LE = 256


def tlv(value: bytes) -> bytes:
    """``value`` wrapped as one BER-TLV with tag DATA_TAG."""
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n <= 0xFF:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([DATA_TAG]) + length + value


def tlv_header(head: bytes) -> tuple[int, int]:
    """(header length, value length) from the first bytes of a TLV; ValueError if malformed."""
    if len(head) < 2 or head[0] != DATA_TAG:
        raise ValueError(f"not a KTP-el data object: {head[:4].hex()}")
    first = head[1]
    if first < 0x80:
        return 2, first
    size = first & 0x7F
    if size not in (1, 2) or len(head) < 2 + size:
        raise ValueError(f"bad TLV length: {head[:4].hex()}")
    return 2 + size, int.from_bytes(head[2 : 2 + size], "big")
