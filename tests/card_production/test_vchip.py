"""The chip simulator's APDU semantics, without sockets: status words, memory, PIN counter;
and its copy of the KTP-el profile agrees with the station's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from schemas import ktpel
from schemas.ktpel import EF, Activation
from simulators.vchip import chip as chip_module
from simulators.vchip.address import default_hopper
from simulators.vchip.chip import KIND_FOREIGN, CardPulled, CardState, Faults, VirtualChip


def sw(answer: bytes) -> int:
    return int.from_bytes(answer[-2:], "big")


def select_app(chip: VirtualChip) -> int:
    return sw(chip.apdu(bytes([0, 0xA4, 4, 0, len(ktpel.AID)]) + ktpel.AID))


def select(chip: VirtualChip, ef: int) -> int:
    return sw(chip.apdu(bytes([0, 0xA4, 2, 0x0C, 2]) + ef.to_bytes(2, "big")))


def update(chip: VirtualChip, offset: int, data: bytes) -> int:
    return sw(chip.apdu(bytes([0, 0xD6, offset >> 8, offset & 0xFF, len(data)]) + data))


def read(chip: VirtualChip, offset: int, le: int) -> bytes:
    return chip.apdu(bytes([0, 0xB0, offset >> 8, offset & 0xFF, le & 0xFF]))


def verify(chip: VirtualChip, pin: str) -> int:
    return sw(chip.apdu(bytes([0, 0x20, 0, 1, len(pin)]) + pin.encode()))


@pytest.fixture
def chip() -> VirtualChip:
    c = VirtualChip(CardState())
    assert select_app(c) == 0x9000
    return c


def test_select_by_aid_and_file_id() -> None:
    c = VirtualChip(CardState())
    assert select(c, EF.NIK) == ktpel.SW_NOT_FOUND  # no application selected yet
    assert sw(c.apdu(bytes([0, 0xA4, 4, 0, 3, 1, 2, 3]))) == ktpel.SW_NOT_FOUND
    assert select_app(c) == 0x9000
    assert select(c, EF.PHOTO) == 0x9000
    assert select(c, 0x0999) == ktpel.SW_NOT_FOUND
    assert sw(c.apdu(bytes([0, 0xA4, 2, 0x0C, 1, 1]))) == ktpel.SW_WRONG_LENGTH


def test_foreign_card_has_no_ktpel_application() -> None:
    c = VirtualChip(CardState(kind=KIND_FOREIGN))
    assert select_app(c) == ktpel.SW_NOT_FOUND
    assert c.atr != VirtualChip(CardState()).atr


def test_unknown_class_instruction_and_bad_length(chip: VirtualChip) -> None:
    assert sw(chip.apdu(bytes([0x80, 0xB0, 0, 0, 0]))) == ktpel.SW_UNKNOWN_CLA
    assert sw(chip.apdu(bytes([0, 0x42, 0, 0, 0]))) == ktpel.SW_UNKNOWN_INS
    assert sw(chip.apdu(bytes([0, 0xB0]))) == ktpel.SW_WRONG_LENGTH
    assert sw(chip.apdu(bytes([0, 0xD6, 0, 0, 5, 1, 2]))) == ktpel.SW_WRONG_LENGTH  # Lc lies


def test_read_and_update_with_offsets(chip: VirtualChip) -> None:
    assert sw(read(chip, 0, 4)) == ktpel.SW_NO_CURRENT_EF
    select(chip, EF.BIODATA)
    assert update(chip, 0, b"hello") == 0x9000
    assert update(chip, 3, b"p!") == 0x9000
    assert read(chip, 0, 5) == b"help!" + b"\x90\x00"
    assert read(chip, 2, 0) == b"lp!" + b"\x62\x82"  # fewer than Le: end of file
    assert sw(read(chip, 6, 1)) == ktpel.SW_WRONG_OFFSET


def test_memory_limits_per_file_and_total(chip: VirtualChip) -> None:
    select(chip, EF.NIK)
    size = ktpel.EF_SIZES[EF.NIK]
    assert update(chip, size + 1, b"x") == ktpel.SW_WRONG_OFFSET
    assert update(chip, size - 1, b"xy") == ktpel.SW_NO_MEMORY
    assert update(chip, size - 1, b"x") == 0x9000
    # Fill files up to the chip's capacity: the file sizes alone would allow more.
    used = chip.used()
    for ef in (EF.PHOTO, EF.BIODATA, EF.SIGNATURE):
        select(chip, ef)
        for offset in range(0, ktpel.EF_SIZES[ef], 255):
            n = min(255, ktpel.EF_SIZES[ef] - offset, chip_module.CAPACITY - used)
            if n == 0:
                break
            assert update(chip, offset, b"\xaa" * n) == 0x9000
            used += n
    assert chip.used() == chip_module.CAPACITY
    select(chip, EF.FINGER_1)
    assert update(chip, 0, b"x") == ktpel.SW_NO_MEMORY


def test_pin_retry_counter_and_block(chip: VirtualChip) -> None:
    assert verify(chip, "111111") == 0x63C2
    assert verify(chip, "222222") == 0x63C1
    assert verify(chip, ktpel.TRANSPORT_PIN) == 0x9000  # a right PIN resets the counter
    assert sw(chip.apdu(bytes([0, 0x20, 0, 1]))) == 0x9000
    chip.reset()
    assert sw(chip.apdu(bytes([0, 0x20, 0, 1]))) == 0x63C3
    for expected in (0x63C2, 0x63C1, 0x63C0):
        assert verify(chip, "999999") == expected
    assert verify(chip, ktpel.TRANSPORT_PIN) == ktpel.SW_BLOCKED
    assert verify(chip, "12") == ktpel.SW_BLOCKED


def test_pin_length_and_change(chip: VirtualChip) -> None:
    assert verify(chip, "1234") == ktpel.SW_WRONG_LENGTH
    change = bytes([0, 0x24, 0, 1, 12]) + b"000000" + b"424242"
    assert sw(chip.apdu(change)) == 0x9000
    assert verify(chip, ktpel.TRANSPORT_PIN) == 0x63C2
    assert verify(chip, "424242") == 0x9000
    assert sw(chip.apdu(bytes([0, 0x24, 0, 1, 6]) + b"424242")) == ktpel.SW_WRONG_LENGTH


def test_fingerprints_need_the_pin(chip: VirtualChip) -> None:
    select(chip, EF.FINGER_1)
    assert update(chip, 0, b"minutiae") == 0x9000
    assert sw(read(chip, 0, 8)) == ktpel.SW_SECURITY
    verify(chip, ktpel.TRANSPORT_PIN)
    assert read(chip, 0, 8) == b"minutiae\x90\x00"


def test_activated_card_is_read_only(chip: VirtualChip) -> None:
    select(chip, EF.ACTIVATION)
    assert update(chip, 0, bytes([Activation.ENCODED])) == 0x9000  # blank: no PIN needed
    assert update(chip, 0, bytes([Activation.ACTIVATED])) == ktpel.SW_SECURITY
    assert update(chip, 0, b"\x07") == ktpel.SW_SECURITY
    verify(chip, ktpel.TRANSPORT_PIN)
    assert update(chip, 0, b"\x07") == ktpel.SW_WRONG_DATA
    assert update(chip, 0, bytes([Activation.ACTIVATED])) == 0x9000
    select(chip, EF.NIK)
    assert update(chip, 0, b"3508") == ktpel.SW_SECURITY


def test_state_survives_as_json_and_faults_fire() -> None:
    saved: list[dict[str, Any]] = []
    faults = Faults(pull_after_writes=1)
    c = VirtualChip(CardState(), lambda s: saved.append(s.to_json()), faults)
    select_app(c)
    select(c, EF.NIK)
    assert update(c, 0, b"35") == 0x9000
    with pytest.raises(CardPulled):
        update(c, 2, b"08")
    assert faults.pull_after_writes is None  # pulled once: the card back in is left alone
    again = VirtualChip(CardState.from_json(saved[-1]))
    select_app(again)
    select(again, EF.NIK)
    assert read(again, 0, 0) == b"35\x62\x82"
    failing = VirtualChip(CardState(), faults=Faults(fail_after_writes=0))
    select_app(failing)
    select(failing, EF.NIK)
    assert update(failing, 0, b"35") == ktpel.SW_MEMORY_FAILURE


def test_hopper_socket_path_fits_a_unix_socket_even_for_deep_state_dirs(tmp_path: Path) -> None:
    short = tmp_path / "s"
    assert default_hopper(short) == str(short / "hopper.sock")
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = default_hopper(deep)
    assert len(os.fsencode(path)) <= 107
    assert path == default_hopper(deep)  # the chip and its clients agree on it
    assert path != default_hopper(tmp_path / ("d" * 60) / ("f" * 60))
