"""Applicant SMS texts in Bahasa Indonesia and English. Pure: plain strings in, text out.

Callers pass values already formatted for display (dates, office hours). The fixed wording is
kept inside the GSM-7 alphabet so an SMS costs what its length says; a name outside GSM-7
(e.g. with a diacritic) switches that one SMS to UCS-2, which the encoder handles.
"""

from __future__ import annotations

import string
from enum import StrEnum


class Language(StrEnum):
    ID = "id"
    EN = "en"


class Template(StrEnum):
    FILE_ACCEPTED = "file_accepted"
    SENT_BACK = "sent_back"
    CARD_READY = "card_ready"
    UNCOLLECTED_REMINDER = "uncollected_reminder"
    TEMPORARY_CERTIFICATE = "temporary_certificate"
    IKM_SURVEY = "ikm_survey"
    COMPLAINT_OUTCOME = "complaint_outcome"


TEMPLATES: dict[Template, dict[Language, str]] = {
    Template.FILE_ACCEPTED: {
        Language.ID: (
            "Yth. {name}, berkas KTP-el Anda diterima lengkap di {office}. "
            "No. pelacakan: {tracking_number}. Perkiraan selesai: {deadline}. Gratis."
        ),
        Language.EN: (
            "Dear {name}, your KTP-el application is complete and accepted at {office}. "
            "Tracking no.: {tracking_number}. Expected ready: {deadline}. Free of charge."
        ),
    },
    Template.SENT_BACK: {
        Language.ID: (
            "Yth. {name}, berkas KTP-el {tracking_number} perlu diperbaiki: {what_to_fix}. "
            "Silakan datang ke {office} dengan dokumen yang benar."
        ),
        Language.EN: (
            "Dear {name}, KTP-el application {tracking_number} needs correcting: "
            "{what_to_fix}. Please come to {office} with the correct documents."
        ),
    },
    Template.CARD_READY: {
        Language.ID: (
            "Yth. {name}, KTP-el Anda ({tracking_number}) sudah jadi. Ambil di {office}, "
            "{office_hours}. Bawa tanda terima pengajuan; KTP-el diserahkan setelah Anda "
            "menandatangani tanda terima."
        ),
        Language.EN: (
            "Dear {name}, your KTP-el ({tracking_number}) is ready. Collect it at {office}, "
            "{office_hours}. Bring your application receipt (tanda terima); you sign for "
            "the card on collection."
        ),
    },
    Template.UNCOLLECTED_REMINDER: {
        Language.ID: (
            "Pengingat: Yth. {name}, KTP-el Anda ({tracking_number}) sudah jadi sejak "
            "{ready_since} dan belum diambil. Ambil di {office}, {office_hours}. "
            "Bawa tanda terima pengajuan."
        ),
        Language.EN: (
            "Reminder: Dear {name}, your KTP-el ({tracking_number}) has been ready since "
            "{ready_since} and is not collected yet. Collect it at {office}, "
            "{office_hours}. Bring your application receipt (tanda terima)."
        ),
    },
    Template.TEMPORARY_CERTIFICATE: {
        Language.ID: (
            "Yth. {name}, blanko KTP-el sedang habis. Surat Keterangan pengganti KTP-el "
            "({tracking_number}) dapat diambil di {office}, berlaku s.d. {valid_until}. "
            "Kami kabari lagi saat KTP-el dicetak."
        ),
        Language.EN: (
            "Dear {name}, blank KTP-el cards are out of stock. A temporary certificate "
            "(Surat Keterangan, {tracking_number}) is ready at {office}, valid until "
            "{valid_until}. We will notify you when your card is printed."
        ),
    },
    Template.IKM_SURVEY: {
        Language.ID: (
            "Terima kasih, {name}, KTP-el Anda telah diserahkan. Mohon isi survei kepuasan "
            "masyarakat (IKM) layanan {office}: {survey_url}"
        ),
        Language.EN: (
            "Thank you, {name}, your KTP-el has been handed over. Please rate the service "
            "of {office} in the satisfaction survey (IKM): {survey_url}"
        ),
    },
    Template.COMPLAINT_OUTCOME: {
        Language.ID: (
            "Yth. {name}, tindak lanjut pengaduan {tracking_number} dari {office}: {outcome}"
        ),
        Language.EN: "Dear {name}, {office} followed up complaint {tracking_number}: {outcome}",
    },
}


def fields(template: Template) -> frozenset[str]:
    """The placeholders a template needs (the same in every language)."""
    text = TEMPLATES[template][Language.ID]
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def render(template: Template, language: Language, data: dict[str, str]) -> str:
    """Fill the template; ValueError naming the missing or unexpected fields."""
    need = fields(template)
    missing, extra = need - data.keys(), data.keys() - need
    if missing or extra:
        raise ValueError(
            f"{template}: missing fields {sorted(missing)}, unexpected fields {sorted(extra)}"
        )
    return TEMPLATES[template][language].format(**data)
