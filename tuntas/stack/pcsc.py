"""pcscd with vpcd virtual readers, for the card stations' encoders (no systemd, no udev).

pcscd is a machine-wide daemon: its socket is always ``/run/pcscd/pcscd.comm``, so one pcscd
serves every station on the machine. We run it in the foreground under our supervision
(``pcscd -f``; never ``--auto-exit``, which would drop the readers after 60 idle seconds)
with its own reader configuration (``-c RUN_DIR/reader.conf.d``), leaving /etc untouched.

vpcd gives each reader.conf entry two slots, on the entry's port and the next one; readers
in one entry are named "<FRIENDLYNAME> 00 00" and "<FRIENDLYNAME> 00 01", and entries need
distinct names. vpcd keeps its slots in globals indexed by slot number, so two entries
loading the same .so overwrite each other's sockets (the first port is never accepted):
each further entry loads its own copy of the driver (RUN_DIR/drivers/).

Station i (0-based) therefore uses port 35963 + i and the reader named by
``reader_name(i)``: "Virtual PCD 00 00", "Virtual PCD 00 01", "Virtual PCD 1 00 00", ...
The first entry matches Debian's own /etc/reader.conf.d/vpcd.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tuntas.stack.errors import StackError

VPCD_BASE_PORT = 35963
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_IPC_DIR = Path("/run/pcscd")
SLOTS_PER_ENTRY = 2  # vpcd's vicc_max_slots
START_TIMEOUT_S = 15.0


def vpcd_port(station: int) -> int:
    return VPCD_BASE_PORT + station


def reader_name(station: int) -> str:
    entry, slot = divmod(station, SLOTS_PER_ENTRY)
    return f"{_friendly_name(entry)} 00 {slot:02d}"


def _friendly_name(entry: int) -> str:
    return "Virtual PCD" if entry == 0 else f"Virtual PCD {entry}"


def reader_conf(readers: int, drivers: list[Path]) -> str:
    """reader.conf for ``readers`` slots; ``drivers[e]`` is the vpcd .so of entry e."""
    return "\n".join(
        f'FRIENDLYNAME "{_friendly_name(e)}"\n'
        f"DEVICENAME   /dev/null:{vpcd_port(e * SLOTS_PER_ENTRY)}\n"
        f"LIBPATH      {driver}\n"
        f"CHANNELID    {vpcd_port(e * SLOTS_PER_ENTRY)}\n"
        for e, driver in enumerate(drivers[: -(-readers // SLOTS_PER_ENTRY)])
    )


def _driver_copies(run_dir: Path, readers: int) -> list[Path]:
    drivers = [VPCD_DRIVER]
    for e in range(1, -(-readers // SLOTS_PER_ENTRY)):
        copy = run_dir / "drivers" / f"libifdvpcd-{e}.so"
        if not copy.exists() or copy.stat().st_size != VPCD_DRIVER.stat().st_size:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(VPCD_DRIVER, copy)
        drivers.append(copy)
    return drivers


def _pcscd() -> str:
    found = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if found is None:
        raise StackError("pcscd not found: apt-get install pcscd vsmartcard-vpcd")
    if not VPCD_DRIVER.exists():
        raise StackError(f"vpcd driver {VPCD_DRIVER} not found: apt-get install vsmartcard-vpcd")
    return found


def _alive(pid: int) -> bool:
    """True for a running process (a zombie does not count)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our exited child
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pid_of(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not _alive(pid) or not cmdline.exists() or b"pcscd" not in cmdline.read_bytes():
        return None
    return pid


def present_readers() -> list[str]:
    """Reader names pcscd reports now; empty when pcscd does not answer."""
    from smartcard.Exceptions import SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers

    try:
        return [str(r) for r in readers()]
    except (SmartcardException, BaseSCardException):  # no pcscd: no readers
        return []


def ensure_pcscd(run_dir: Path, readers: int) -> None:
    """pcscd running with vpcd readers for stations 0..readers-1; returns when they are listed.

    A pcscd we did not start is used as it is if it already lists those readers.
    """
    binary = _pcscd()
    wanted = [reader_name(i) for i in range(readers)]
    conf_dir = run_dir / "reader.conf.d"
    conf = reader_conf(readers, _driver_copies(run_dir, readers))
    ours = _pid_of(run_dir / "pcscd.pid")
    if ours is not None:
        conf_file = conf_dir / "vpcd"
        if (
            conf_file.exists()
            and conf_file.read_text() == conf
            and set(wanted) <= set(present_readers())
        ):
            return
        stop_pcscd(run_dir)
    else:
        other = _pid_of(PCSCD_IPC_DIR / "pcscd.pid")
        if other is not None:
            if set(wanted) <= set(present_readers()):
                return
            raise StackError(
                f"a pcscd not started by tuntas (pid {other}) lacks the vpcd readers: "
                f"stop it (kill {other}) and retry"
            )
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "vpcd").write_text(conf)
    PCSCD_IPC_DIR.mkdir(parents=True, exist_ok=True)  # systemd's tmpfiles would make it
    log = (run_dir / "pcscd.log").open("ab")
    proc = subprocess.Popen(
        [binary, "--foreground", "--config", str(conf_dir)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # not killed by a Ctrl-C meant for the caller
    )
    log.close()
    (run_dir / "pcscd.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not set(wanted) <= set(present_readers()):
        if proc.poll() is not None:
            tail = (run_dir / "pcscd.log").read_text(errors="replace").strip().splitlines()
            raise StackError(f"pcscd exited ({proc.returncode}): {tail[-1] if tail else '?'}")
        if time.monotonic() > deadline:
            raise StackError(f"pcscd did not list {wanted} in {START_TIMEOUT_S:.0f}s")
        time.sleep(0.05)


def stop_pcscd(run_dir: Path, timeout_s: float = 10.0) -> None:
    """Stop the pcscd that ``ensure_pcscd`` started from ``run_dir`` (others are left alone)."""
    pid = _pid_of(run_dir / "pcscd.pid")
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
    (run_dir / "pcscd.pid").unlink(missing_ok=True)
