"""What an application is made of: the applicant's data and the documents handed in.

The field sets follow the KTP-el biodata (what is printed on the card) plus what the desk
needs (KK number, phone) and the documents of the requirement matrix.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator

from schemas.base import Contract
from schemas.values import (
    BirthDate,
    DesaCode,
    InvalidValue,
    KkNumber,
    Nik,
    PastDate,
    PersonName,
    PhoneNumber,
    Sex,
    ShortText,
    normalize_text,
)


class ApplicationType(StrEnum):
    NEW = "new"  # KTP-el baru
    LOST = "lost"  # hilang
    DAMAGED = "damaged"  # rusak


class BloodType(StrEnum):
    A = "A"
    B = "B"
    AB = "AB"
    O = "O"  # noqa: E741 - the blood group
    UNKNOWN = "-"  # printed as "-" on the card


class Religion(StrEnum):
    ISLAM = "islam"
    KRISTEN = "kristen"
    KATOLIK = "katolik"
    HINDU = "hindu"
    BUDDHA = "buddha"
    KHONGHUCU = "khonghucu"
    # Constitutional Court ruling 97/PUU-XIV/2016: "Kepercayaan terhadap Tuhan YME".
    KEPERCAYAAN = "kepercayaan"


class MaritalStatus(StrEnum):
    BELUM_KAWIN = "belum_kawin"  # never married
    KAWIN = "kawin"  # married
    CERAI_HIDUP = "cerai_hidup"  # divorced
    CERAI_MATI = "cerai_mati"  # widowed

    @property
    def ever_married(self) -> bool:
        return self is not MaritalStatus.BELUM_KAWIN


class Citizenship(StrEnum):
    WNI = "wni"  # Indonesian citizen
    WNA = "wna"  # foreigner with a permanent stay permit (KITAP)


def _rt_rw(value: object) -> str:
    """RT/RW numbers: 1-3 digits, not zero, stored zero-padded ("5" -> "005")."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 3 and int(text) > 0):
        raise InvalidValue(
            "invalid_rt_rw", "RT/RW harus angka 001-999", "RT/RW must be a number 001-999"
        )
    return text.zfill(3)


RtRw = Annotated[str, BeforeValidator(_rt_rw)]


class Address(Contract):
    street: ShortText  # alamat: street, dusun, house number
    rt: RtRw
    rw: RtRw
    desa_code: DesaCode  # desa/kelurahan, 10 digits; its first 6 are the kecamatan
    desa_name: ShortText

    @property
    def kecamatan_code(self) -> str:
        return self.desa_code[:6]


class CardFace(Contract):
    """The biodata printed on (and encoded into) the card."""

    nik: Nik
    name: PersonName
    birth_place: ShortText
    birth_date: BirthDate
    sex: Sex
    blood_type: BloodType = BloodType.UNKNOWN
    address: Address
    religion: Religion
    marital_status: MaritalStatus
    occupation: ShortText
    citizenship: Citizenship = Citizenship.WNI


class Applicant(CardFace):
    """Card biodata plus what the office needs to handle the application."""

    kk_number: KkNumber
    phone: PhoneNumber | None = None  # None: the applicant has no phone; nobody is called

    def card_face(self) -> CardFace:
        """Only what card production needs (UU PDP: data minimisation)."""
        return CardFace.model_validate(self.model_dump())


class KkPhotocopy(Contract):
    kk_number: KkNumber  # as read from the photocopy; must match the applicant's


class PoliceReport(Contract):
    """Surat keterangan kehilangan dari kepolisian."""

    number: Annotated[str, BeforeValidator(lambda v: normalize_text(v, max_length=64))]
    issued_on: PastDate
    issuing_station: ShortText  # e.g. "Polsek Tempeh"


class DamagedCard(Contract):
    """The damaged card, handed in at the desk."""

    nik_on_card: Nik | None = None  # None when the number is no longer readable
    condition: ShortText | None = None  # e.g. "chip retak"


class Documents(Contract):
    """Documents handed in; ``None`` means not handed in."""

    kk_photocopy: KkPhotocopy | None = None
    police_report: PoliceReport | None = None
    damaged_card: DamagedCard | None = None


class ApplicationFile(Contract):
    """The file as the front-desk officer checks it."""

    application_type: ApplicationType
    applicant: Applicant
    documents: Documents = Documents()
