"""The encoder through real pcscd + vpcd and the virtual chip: write, verify, activate, faults."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from schemas import ktpel
from schemas.ktpel import Activation
from services.card_production.hardware import encoder
from services.card_production.hardware.encoder import ChipData
from tests.card_production.hardware_fixtures import ChipSlot, insert
from tests.waiting import wait_for


def chip_data() -> ChipData:
    return ChipData(
        nik="3508054101990001",
        biodata=json.dumps({"nama": "SITI AMINAH", "agama": "ISLAM"}).encode(),
        photo=os.urandom(9000),
        signature=os.urandom(1800),
        finger_1=os.urandom(480),
        finger_2=os.urandom(512),
    )


async def test_encode_writes_all_files_and_verifies_them(blank_card: ChipSlot) -> None:
    data = chip_data()
    result = await encoder.encode(blank_card.reader, data)
    files = data.files().items()
    assert result.sha256 == {ef.name: hashlib.sha256(v).hexdigest() for ef, v in files}
    assert await encoder.read_activation(blank_card.reader) is Activation.ENCODED
    fingers = await encoder.read_fingerprints(blank_card.reader, ktpel.TRANSPORT_PIN)
    assert fingers == (data.finger_1, data.finger_2)
    with pytest.raises(encoder.WrongCard):  # an encoded card is nobody's blank
        await encoder.encode(blank_card.reader, data)


async def test_activation_sets_the_holders_pin(blank_card: ChipSlot) -> None:
    data = chip_data()
    await encoder.encode(blank_card.reader, data)
    with pytest.raises(encoder.WrongPin) as wrong:
        await encoder.activate(blank_card.reader, current_pin="999999", new_pin="246810")
    assert wrong.value.tries_left == 2
    await encoder.activate(blank_card.reader, current_pin=ktpel.TRANSPORT_PIN, new_pin="246810")
    assert await encoder.read_activation(blank_card.reader) is Activation.ACTIVATED
    assert await encoder.pin_tries_left(blank_card.reader) == ktpel.PIN_TRIES
    fingers = await encoder.read_fingerprints(blank_card.reader, "246810")
    assert fingers == (data.finger_1, data.finger_2)
    for _ in range(2):
        with pytest.raises(encoder.WrongPin):
            await encoder.read_fingerprints(blank_card.reader, ktpel.TRANSPORT_PIN)
    with pytest.raises(encoder.WrongPin) as last:
        await encoder.read_fingerprints(blank_card.reader, ktpel.TRANSPORT_PIN)
    assert last.value.tries_left == 0
    with pytest.raises(encoder.PinBlocked):
        await encoder.read_fingerprints(blank_card.reader, "246810")


async def test_card_pulled_mid_write_is_card_removed(blank_card: ChipSlot) -> None:
    blank_card.control.pull_after(10)  # inside the photo
    with pytest.raises(encoder.CardRemoved):
        await encoder.encode(blank_card.reader, chip_data())
    assert not await encoder.card_present(blank_card.reader)
    blank_card.control.reseat()  # the same, half-written card goes back in
    back: bool = await wait_for(lambda: encoder.card_present(blank_card.reader), what="card in")
    assert back
    # Never marked encoded: the station can encode it again or count it as spoiled.
    blank: bool = await wait_for(lambda: _is_blank(blank_card), what="pulled card read as blank")
    assert blank


async def _is_blank(slot: ChipSlot) -> bool:
    try:
        return await encoder.read_activation(slot.reader) is Activation.BLANK
    except encoder.CardRemoved:  # pcscd may not have powered the card up yet
        return False


async def test_chip_write_error_is_write_failed(blank_card: ChipSlot) -> None:
    blank_card.control.fail_after(3)
    with pytest.raises(encoder.WriteFailed, match="6581"):
        await encoder.encode(blank_card.reader, chip_data())


async def test_foreign_card_is_wrong_card(chip_slot: ChipSlot) -> None:
    await insert(chip_slot, "foreign")
    with pytest.raises(encoder.WrongCard, match="no KTP-el application"):
        await encoder.encode(chip_slot.reader, chip_data())


async def test_empty_reader_and_unknown_reader(chip_slot: ChipSlot) -> None:
    await insert(chip_slot, "blank")
    chip_slot.control.eject()
    out: bool = await wait_for(lambda: _absent(chip_slot.reader), what="card out of the reader")
    assert out
    with pytest.raises(encoder.CardRemoved):
        await encoder.encode(chip_slot.reader, chip_data())
    with pytest.raises(encoder.ReaderUnavailable):
        await encoder.encode("No Such Reader 00 00", chip_data())


async def _absent(reader: str) -> bool:
    return not await encoder.card_present(reader)


async def test_an_activation_cut_after_the_pin_change_is_finished_by_the_same_request(
    blank_card: ChipSlot,
) -> None:
    """The station killed after the chip took the holder's PIN, before it recorded the
    activation: the same request again opens the chip with that PIN, as often as it is sent,
    and never spends the tries until the card blocks (a chaos day bricked a card so)."""
    data = chip_data()
    await encoder.encode(blank_card.reader, data)
    with encoder._Card(blank_card.reader) as card:  # cut between the two chip commands
        card.select_app()
        card.verify(ktpel.TRANSPORT_PIN)
        card.change_pin(ktpel.TRANSPORT_PIN, "246810")
    for _ in range(ktpel.PIN_TRIES + 1):
        fingers, transport = await encoder.read_for_activation(blank_card.reader, "246810")
        assert fingers == (data.finger_1, data.finger_2) and not transport
    assert await encoder.pin_tries_left(blank_card.reader) == ktpel.PIN_TRIES
    await encoder.finish_activation(blank_card.reader, "246810")
    assert await encoder.read_activation(blank_card.reader) is Activation.ACTIVATED
    # cut after the chip was marked activated: opened with the holder's PIN first, no try spent
    for _ in range(ktpel.PIN_TRIES + 1):
        assert (await encoder.read_for_activation(blank_card.reader, "246810"))[1] is False
        assert await encoder.pin_tries_left(blank_card.reader) == ktpel.PIN_TRIES


async def test_a_first_activation_reads_under_the_transport_pin(blank_card: ChipSlot) -> None:
    data = chip_data()
    await encoder.encode(blank_card.reader, data)
    fingers, transport = await encoder.read_for_activation(blank_card.reader, "246810")
    assert fingers == (data.finger_1, data.finger_2) and transport
    assert await encoder.pin_tries_left(blank_card.reader) == ktpel.PIN_TRIES
