"""The KTP-el chip profile as the chip knows it: application id, files, PIN, status words.

A real chip is not built from the station's code, so the simulator keeps its own copy of the
profile; ``tests/card_production/test_vchip.py`` checks that it agrees with the station's
``services/card_production/hardware/ktpel.py``.
"""

from __future__ import annotations

from enum import IntEnum

AID = bytes.fromhex("D360000001") + b"KTPEL"


class EF(IntEnum):
    NIK = 0x0101
    BIODATA = 0x0102
    PHOTO = 0x0103
    SIGNATURE = 0x0104
    FINGER_1 = 0x0105
    FINGER_2 = 0x0106
    ACTIVATION = 0x0107


EF_SIZES: dict[EF, int] = {
    EF.NIK: 32,
    EF.BIODATA: 2048,
    EF.PHOTO: 16384,
    EF.SIGNATURE: 4096,
    EF.FINGER_1: 1024,
    EF.FINGER_2: 1024,
    EF.ACTIVATION: 1,
}
CAPACITY = 20480  # EEPROM for file contents: less than the sum of the maxima
FINGER_EFS = (EF.FINGER_1, EF.FINGER_2)

PIN_REF = 0x01
PIN_LENGTH = 6
PIN_TRIES = 3
TRANSPORT_PIN = "000000"


class Activation(IntEnum):
    BLANK = 0x00
    ENCODED = 0x01
    ACTIVATED = 0x02


SW_OK = 0x9000
SW_EOF = 0x6282
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

MAX_LE = 256
