"""The card printer: a CUPS queue driven with pycups (blocking calls run in a worker thread).

The station checks ``queue_status`` before taking print work and pauses while the queue is
not ready (``wait_ready``); ``print_pdf`` submits one document and waits for the job to end.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cups

PRINTER_STOPPED = 5  # IPP printer-state: 3 idle, 4 processing, 5 stopped
JOB_COMPLETED = 9  # IPP job-state: 3 pending .. 5 processing, 6 stopped, 7 canceled, 8 aborted
JOB_FAILED = {6: "stopped", 7: "canceled", 8: "aborted"}


class PrinterError(Exception):
    """Any failure of the printer."""


class PrinterOffline(PrinterError):
    """The queue does not exist, CUPS does not answer, or the queue rejects jobs."""


class PrinterStopped(PrinterError):
    """The queue is stopped (paused by an operator or after a device error)."""

    def __init__(self, message: str, job_id: int | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id  # a job still held in the stopped queue, if any


class PrintFailed(PrinterError):
    """The job was canceled or aborted, or did not finish in time."""


@dataclass(frozen=True)
class QueueStatus:
    queue: str
    exists: bool
    state: int  # IPP printer-state
    accepting: bool
    reason: str  # printer-state-message / printer-state-reasons, for the operator

    @property
    def ready(self) -> bool:
        return self.exists and self.accepting and self.state != PRINTER_STOPPED


def _status(conn: Any, queue: str) -> QueueStatus:
    try:
        attrs = conn.getPrinterAttributes(queue)
    except cups.IPPError:
        return QueueStatus(queue, False, 0, False, "no such queue")
    reasons = [r for r in attrs.get("printer-state-reasons", []) if r != "none"]
    return QueueStatus(
        queue,
        True,
        int(attrs.get("printer-state", 0)),
        bool(attrs.get("printer-is-accepting-jobs", False)),
        attrs.get("printer-state-message") or ", ".join(reasons),
    )


def _connect() -> Any:
    try:
        return cups.Connection()
    except RuntimeError as exc:  # pycups raises RuntimeError when cupsd does not answer
        raise PrinterOffline(f"CUPS does not answer: {exc}") from None


def _queue_status(queue: str) -> QueueStatus:
    try:
        return _status(_connect(), queue)
    except PrinterOffline as exc:
        return QueueStatus(queue, False, 0, False, str(exc))


def _require_ready(status: QueueStatus, job_id: int | None = None) -> None:
    if not status.exists:
        raise PrinterOffline(f"queue {status.queue}: {status.reason}")
    if status.state == PRINTER_STOPPED:
        raise PrinterStopped(f"queue {status.queue} is stopped: {status.reason}", job_id)
    if not status.accepting:
        raise PrinterOffline(f"queue {status.queue} rejects jobs: {status.reason}")


def _print(
    queue: str, pdf: bytes | Path, title: str, options: Mapping[str, str], timeout_s: float
) -> int:
    if isinstance(pdf, Path):
        pdf = pdf.read_bytes()
    conn = _connect()
    _require_ready(_status(conn, queue))
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        try:
            job_id = int(conn.printFile(queue, f.name, title, dict(options)))
        except cups.IPPError as exc:
            raise PrinterOffline(f"queue {queue} refused the job: {exc}") from None
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        state = int(conn.getJobAttributes(job_id, ["job-state"])["job-state"])
        if state == JOB_COMPLETED:
            return job_id
        if state in JOB_FAILED:
            raise PrintFailed(f"job {job_id} on {queue} {JOB_FAILED[state]}")
        # A job waits in a stopped queue: the station must know now, not at the timeout.
        _require_ready(_status(conn, queue), job_id)
        if time.monotonic() > deadline:
            raise PrintFailed(f"job {job_id} on {queue} not done after {timeout_s:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


async def queue_status(queue: str) -> QueueStatus:
    return await asyncio.to_thread(_queue_status, queue)


async def wait_ready(queue: str, *, poll_s: float = 2.0, timeout_s: float | None = None) -> None:
    """Return once the queue takes jobs again (the station pauses consumption meanwhile)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not (status := await queue_status(queue)).ready:
        if deadline is not None and time.monotonic() > deadline:
            _require_ready(status)
        await asyncio.sleep(poll_s)


async def print_pdf(
    queue: str,
    pdf: bytes | Path,
    *,
    title: str,
    options: Mapping[str, str] | None = None,
    timeout_s: float = 120.0,
) -> int:
    """Print ``pdf`` on ``queue`` and wait until CUPS reports the job completed; the job id.

    ``options`` are CUPS job options, e.g. ``{"PageSize": "A4"}`` for a certificate on a
    queue whose default is the card size. Titles land in file names and logs: no NIK.
    """
    return await asyncio.to_thread(_print, queue, pdf, title, options or {}, timeout_s)
