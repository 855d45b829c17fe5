"""Typed SMS send errors: the caller retries transient ones later and gives up on permanent ones."""

from __future__ import annotations

ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64

# Statuses that say "not now" rather than "never"; every other non-zero status is permanent.
TRANSIENT_STATUSES = frozenset(
    {ESME_RSYSERR, ESME_RMSGQFUL, ESME_RSUBMITFAIL, ESME_RTHROTTLED, ESME_RX_T_APPN}
)


class SmsError(Exception):
    """An SMS could not be sent. `command_status` is the SMPP status when the SMSC gave one."""

    def __init__(self, message: str, command_status: int | None = None) -> None:
        super().__init__(message)
        self.command_status = command_status


class TransientSmsError(SmsError):
    """Throttled, SMSC system error, queue full, connection lost: retry later."""


class PermanentSmsError(SmsError):
    """Invalid destination, rejected bind, text that cannot be encoded: retrying will not help."""


def error_for_status(command_status: int, what: str) -> SmsError:
    kind = TransientSmsError if command_status in TRANSIENT_STATUSES else PermanentSmsError
    return kind(f"{what}: SMPP status 0x{command_status:02X}", command_status)
