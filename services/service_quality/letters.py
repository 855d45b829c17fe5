"""The e-mails the office sends a complainant, in Bahasa Indonesia. Pure."""

from __future__ import annotations

from datetime import datetime

from schemas.workdays import OfficeHours


def _day(moment: datetime, hours: OfficeHours) -> str:
    return f"{moment.astimezone(hours.zone):%d-%m-%Y}"


def acknowledgement(
    ticket: str, subject: str, follow_up_by: datetime, hours: OfficeHours
) -> tuple[str, str]:
    return (
        f"[{ticket}] Pengaduan Anda telah kami terima",
        f'Pengaduan Anda "{subject}" telah kami terima dengan nomor tiket {ticket}.\n'
        f"Tindak lanjut paling lambat {_day(follow_up_by, hours)} (5 hari kerja).\n"
        "Sebutkan nomor tiket bila menghubungi kami.\n",
    )


def outcome(ticket: str, subject: str, text: str) -> tuple[str, str]:
    return (
        f"[{ticket}] Tindak lanjut pengaduan Anda",
        f'Tindak lanjut pengaduan "{subject}" (tiket {ticket}):\n\n{text}\n\n'
        "Terima kasih atas masukan Anda.\n",
    )


SMS_OUTCOME_CHARS = 160  # complaint.answered's limit: the SMS stays at most two parts


def sms_outcome(text: str) -> str:
    """The outcome as the complainant's SMS carries it: one line, cut to fit."""
    line = " ".join(text.split())
    return line if len(line) <= SMS_OUTCOME_CHARS else line[: SMS_OUTCOME_CHARS - 3] + "..."
