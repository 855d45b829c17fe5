"""Service quality settings (``TUNTAS_SERVICE_QUALITY_*``): complaint deadlines, the offices'
mailboxes and calendar, the mail relay, the public address of the survey pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from schemas.regions import lumajang
from schemas.values import RegionLevel
from schemas.workdays import OfficeHours, WorkingCalendar
from services.runtime.settings import Connections, RuntimeKnobs


def lumajang_mailboxes() -> dict[str, str]:
    """``kec_<name>@lumajangkab.go.id`` -> kecamatan code, as Tempeh's standard publishes."""
    return {
        f"kec_{r.name.lower().replace(' ', '')}@lumajangkab.go.id": r.code
        for r in lumajang().children("3508", RegionLevel.KABUPATEN)
    }


class ServiceQualitySettings(RuntimeKnobs):
    model_config = SettingsConfigDict(
        env_prefix="TUNTAS_SERVICE_QUALITY_",
        frozen=True,
        extra="ignore",
        env_nested_delimiter="__",
    )

    connections: Connections = Field(default_factory=Connections)
    http_port: int = 8106
    # Where applicants reach the public pages (the survey link in the SMS starts with it).
    public_url: str = "http://127.0.0.1:8106"

    # Complaint deadlines in working days (SP4N-LAPOR!: follow-up within 5).
    acknowledge_working_days: int = Field(default=1, ge=1)
    follow_up_working_days: int = Field(default=5, ge=1)
    office_hours: OfficeHours = Field(default_factory=OfficeHours)
    # None: the cuti bersama dates the holidays package knows; a list replaces them.
    collective_leave: list[date] | None = None
    escalation_poll_s: float = 60.0
    # Public complaint form: submissions per client address per minute.
    web_complaints_per_minute: int = Field(default=5, ge=1)

    # E-mail. In: the office's mailbox; the stage is the SMTP server for these addresses
    # (``smtp_port``; -1: off).
    mailboxes: dict[str, str] = Field(default_factory=lumajang_mailboxes)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    # Out: the relay replies go through.
    relay_host: str = "127.0.0.1"
    relay_port: int = 2526
    mail_poll_s: float = 1.0
    mail_max_attempts: int = 8
    # In, in production: poll the office mailbox over IMAP ('' = off), e.g.
    # ``imaps://pengaduan@mail.lumajangkab.go.id:993/INBOX`` (``imap://`` only on a trusted
    # network). One mailbox serves every office: each message goes to the kecamatan whose
    # address (``mailboxes``) is among its recipients. The password is read at each poll from
    # ``imap_password_file`` (a mounted secret: a rotation needs no restart) or ``imap_password``.
    imap_url: str = ""
    imap_password: str = ""
    imap_password_file: str = ""
    imap_poll_s: float = 60.0
    # After its complaint is committed a message is moved to ``imap_filed_folder``; one that
    # cannot become a complaint (unreadable, too big, no office or sender) to
    # ``imap_set_aside_folder``.
    imap_filed_folder: str = "Pengaduan-Tercatat"
    imap_set_aside_folder: str = "Pengaduan-Ditolak"

    # The monthly report: checked this often, produced on the first working day.
    report_check_s: float = 600.0

    # SP4N-LAPOR! (the national complaint system): its integration API's base URL ('' = no
    # export), the file holding its API token, how often pending pushes and status pulls run.
    lapor_url: str = ""
    lapor_token_file: Path | None = None
    lapor_poll_s: float = 30.0
    lapor_pull_every_s: float = 900.0  # a pushed complaint's status is asked this often
    lapor_retry_s: float = 30.0  # the first retry after a failure; doubles up to an hour

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.office_hours, collective_leave=self.collective_leave)

    def mailbox_of(self, kecamatan: str) -> str:
        """The office's own address (replies are sent from it)."""
        for address, code in self.mailboxes.items():
            if code == kecamatan:
                return address
        return f"pengaduan.{kecamatan}@lumajangkab.go.id"
