"""cupsd and one cups-pdf queue per card station, standing in for the office card printer.

cupsd is machine-wide (socket /run/cups/cups.sock); without systemd we start it as a daemon
if ``lpstat -r`` says it is not running, and leave it running for everyone.

Queue ``tuntas-<kecamatan>`` (``tuntas-<run>-<kecamatan>`` for a demo, benchmark or test
run, so runs never print into each other's queues) uses the cups-pdf backend with device URI
``cups-pdf:/<queue>``: cups-pdf then reads ``/etc/cups/cups-pdf-<queue>.conf``, where we set
``Out`` to ``<pdf_root>/<queue>`` (default /var/spool/tuntas-pdf/<queue>) and ``Label 2``, so
every file name carries ``job_<id>``. The queue's default page size is CR-80, like a card
printer's media; without it cups-pdf would re-render the card onto A4.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from tuntas.stack.errors import StackError

CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
CUPS_PDF_PPD = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"  # the variant that takes custom sizes
CUPS_CONFIG_DIR = Path("/etc/cups")
DEFAULT_PDF_ROOT = Path("/var/spool/tuntas-pdf")
CARD_PAGE_SIZE = "Custom.85.6x53.98mm"  # ISO/IEC 7810 ID-1 (CR-80)
START_TIMEOUT_S = 15.0


def queue_name(kecamatan: str, run: str | None = None) -> str:
    """The station's queue, e.g. ``tuntas-350805`` for Kecamatan Tempeh; a run's queue
    carries the run's name (CUPS names: no spaces, slashes or '#')."""
    if run is None:
        return f"tuntas-{kecamatan}"
    return f"tuntas-{re.sub(r'[^A-Za-z0-9_.-]+', '-', run)[:60]}-{kecamatan}"


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise StackError(f"{name} not found: apt-get install {package}")
    return found


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = (done.stderr or done.stdout).strip().splitlines()
        raise StackError(f"{' '.join(args[:3])} failed: {msg[-1] if msg else done.returncode}")
    return done.stdout


def cupsd_running() -> bool:
    lpstat = _tool("lpstat", "cups-client")
    done = subprocess.run([lpstat, "-r"], capture_output=True, text=True, check=False)
    return "is running" in done.stdout and "not running" not in done.stdout


def ensure_cupsd() -> None:
    """cupsd answering; started as a daemon if it is not running."""
    cupsd = _tool("cupsd", "cups printer-driver-cups-pdf")
    if cupsd_running():
        return
    _run(cupsd)  # daemonises once its socket is set up
    deadline = time.monotonic() + START_TIMEOUT_S
    while not cupsd_running():
        if time.monotonic() > deadline:
            raise StackError(
                f"cupsd did not answer in {START_TIMEOUT_S:.0f}s: see /var/log/cups/error_log"
            )
        time.sleep(0.05)


def pdf_dir(name: str, pdf_root: Path = DEFAULT_PDF_ROOT) -> Path:
    return pdf_root / name


def ensure_pdf_queue(name: str, pdf_root: Path = DEFAULT_PDF_ROOT) -> Path:
    """Queue ``name`` enabled and accepting, printing to PDF files; returns their directory.

    Idempotent: re-running it also re-enables a stopped queue.
    """
    if not CUPS_PDF_BACKEND.exists():
        raise StackError("cups-pdf backend not found: apt-get install printer-driver-cups-pdf")
    lpadmin = _tool("lpadmin", "cups-client")
    out = pdf_dir(name, pdf_root)
    out.mkdir(parents=True, exist_ok=True)
    (CUPS_CONFIG_DIR / f"cups-pdf-{name}.conf").write_text(f"Out {out}\nLabel 2\n")
    _run(
        lpadmin, "-p", name, "-E", "-v", f"cups-pdf:/{name}", "-m", CUPS_PDF_PPD,
        "-o", f"PageSize={CARD_PAGE_SIZE}",
    )  # fmt: skip
    return out


def remove_pdf_queue(name: str) -> None:
    """Delete the queue and its cups-pdf config (the PDFs already produced stay)."""
    lpadmin = _tool("lpadmin", "cups-client")
    subprocess.run([lpadmin, "-x", name], capture_output=True, check=False)
    (CUPS_CONFIG_DIR / f"cups-pdf-{name}.conf").unlink(missing_ok=True)


def stop_printer(name: str, reason: str) -> None:
    """Stop queue ``name`` as a jammed or empty printer stops (``cupsdisable -r``)."""
    _run(_tool("cupsdisable", "cups-client"), "-r", reason, name)


def start_printer(name: str) -> None:
    _run(_tool("cupsenable", "cups-client"), name)
