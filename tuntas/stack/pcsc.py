"""One pcscd per run, with vpcd virtual readers, for the card stations' encoders.

pcscd itself always binds ``/run/pcscd/pcscd.comm`` and refuses to start while another pcscd
owns that path (pcsc-lite 1.9 ignores ``PCSCLITE_CSOCK_NAME`` on the daemon side). So each run
starts its pcscd in a private mount namespace (``unshare --mount``) where ``/run/pcscd`` is
the run's own folder: the socket lands in ``<ipc dir>/pcscd.comm``, and the run's processes
reach it with ``PCSCLITE_CSOCK_NAME`` (libpcsclite honours it on the client side). Runs then
never share readers: ``make up``, ``make demo`` and ``make test`` can run side by side.

Each run's readers carry the run's label and their own vpcd ports, chosen free when the run
is first prepared and kept in ``RUN_DIR/readers.json``. vpcd gives each reader.conf entry two
slots, on the entry's port and the next one, named "<FRIENDLYNAME> 00 00" and "... 00 01";
vpcd keeps its slots in globals, so each further entry loads its own copy of the driver.
pcscd runs in the foreground under our supervision (never ``--auto-exit``, which would drop
the readers after 60 idle seconds), configured from ``RUN_DIR/reader.conf.d``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tuntas.stack.errors import StackError

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_IPC_DIR = Path("/run/pcscd")  # where pcscd binds, inside its own namespace
SLOTS_PER_ENTRY = 2  # vpcd's vicc_max_slots
START_TIMEOUT_S = 15.0
# vpcd ports come from below Linux's ephemeral range, so no outgoing connection takes one
# between allocation and pcscd binding it.
PORT_RANGE = (20000, 32000)
_SUN_PATH_MAX = 107


@dataclass(frozen=True)
class Readers:
    """One run's pcscd: where its socket is, its reader names and vpcd ports."""

    run_dir: Path
    label: str
    ports: tuple[int, ...]  # the vpcd port of each reader.conf entry (two slots each)

    @property
    def socket(self) -> Path:
        """The pcscd socket: give it to clients as ``PCSCLITE_CSOCK_NAME``."""
        return ipc_dir(self.run_dir) / "pcscd.comm"

    @property
    def count(self) -> int:
        return len(self.ports) * SLOTS_PER_ENTRY

    def reader_name(self, station: int) -> str:
        entry, slot = divmod(station, SLOTS_PER_ENTRY)
        return f"{self._friendly(entry)} 00 {slot:02d}"

    def vpcd_port(self, station: int) -> int:
        entry, slot = divmod(station, SLOTS_PER_ENTRY)
        return self.ports[entry] + slot

    def _friendly(self, entry: int) -> str:
        return f"Tuntas {self.label} {entry}"

    def reader_conf(self, drivers: list[Path]) -> str:
        """reader.conf with one entry per port; ``drivers[e]`` is the vpcd .so of entry e."""
        return "\n".join(
            f'FRIENDLYNAME "{self._friendly(e)}"\n'
            f"DEVICENAME   /dev/null:{port}\n"
            f"LIBPATH      {driver}\n"
            f"CHANNELID    {port}\n"
            for e, (port, driver) in enumerate(zip(self.ports, drivers, strict=True))
        )

    def env(self) -> dict[str, str]:
        return {"PCSCLITE_CSOCK_NAME": str(self.socket)}


def ipc_dir(run_dir: Path) -> Path:
    """The folder pcscd sees as /run/pcscd; under /tmp when the run's own path is too long
    for a UNIX socket."""
    own = run_dir.absolute() / "ipc"
    if len(os.fsencode(own / "pcscd.comm")) <= _SUN_PATH_MAX:
        return own
    digest = hashlib.sha256(os.fsencode(run_dir.absolute())).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tuntas-pcscd-{digest}"


def _free_pair() -> int:
    """An even port p with p and p+1 free (vpcd listens on all interfaces)."""
    for _ in range(200):
        port = random.randrange(PORT_RANGE[0], PORT_RANGE[1], 2)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("", port))
                b.bind(("", port + 1))
        except OSError:
            continue
        return port
    raise StackError("no free pair of ports for vpcd")


def allocate(run_dir: Path, label: str, readers: int) -> Readers:
    """The run's readers (at least ``readers``), kept in ``run_dir/readers.json``."""
    label = re.sub(r"[^A-Za-z0-9-]+", "-", label).strip("-")[:40] or "run"
    saved = run_dir / "readers.json"
    ports: list[int] = []
    if saved.exists():
        raw = json.loads(saved.read_text())
        if raw.get("label") == label:
            ports = [int(p) for p in raw["ports"]]
    entries = -(-readers // SLOTS_PER_ENTRY)
    if len(ports) < entries:
        ports += [_free_pair() for _ in range(entries - len(ports))]
        run_dir.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({"label": label, "ports": ports}))
    return Readers(run_dir, label, tuple(ports))


def _driver_copies(run_dir: Path, entries: int) -> list[Path]:
    drivers = [VPCD_DRIVER]
    for e in range(1, entries):
        copy = run_dir / "drivers" / f"libifdvpcd-{e}.so"
        if not copy.exists() or copy.stat().st_size != VPCD_DRIVER.stat().st_size:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(VPCD_DRIVER, copy)
        drivers.append(copy)
    return drivers


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if found is None:
        raise StackError(f"{name} not found: apt-get install {package}")
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


_LIST = (
    "from smartcard.System import readers\n"
    "try:\n    print('\\n'.join(str(r) for r in readers()))\n"
    "except Exception:\n    pass\n"
)


def present_readers(readers: Readers) -> list[str]:
    """Reader names the run's pcscd reports now; empty when it does not answer.

    Asked from a child process: libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process,
    and the caller may talk to another pcscd itself.
    """
    done = subprocess.run(
        [sys.executable, "-c", _LIST],
        env={**os.environ, **readers.env()},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.stdout.splitlines()


def ensure_pcscd(readers: Readers) -> None:
    """The run's pcscd running with its readers; returns when they are listed."""
    binary = _tool("pcscd", "pcscd vsmartcard-vpcd")
    if not VPCD_DRIVER.exists():
        raise StackError(f"vpcd driver {VPCD_DRIVER} not found: apt-get install vsmartcard-vpcd")
    run_dir = readers.run_dir
    wanted = {readers.reader_name(i) for i in range(readers.count)}
    conf_dir = run_dir / "reader.conf.d"
    conf = readers.reader_conf(_driver_copies(run_dir, len(readers.ports)))
    if _pid_of(run_dir / "pcscd.pid") is not None:
        conf_file = conf_dir / "vpcd"
        same = conf_file.exists() and conf_file.read_text() == conf
        if same and wanted <= set(present_readers(readers)):
            return
        stop_pcscd(run_dir)
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "vpcd").write_text(conf)
    ipc = ipc_dir(run_dir)
    ipc.mkdir(parents=True, exist_ok=True)
    readers.socket.unlink(missing_ok=True)
    PCSCD_IPC_DIR.mkdir(parents=True, exist_ok=True)  # the mount point
    script = f'mount --bind "{ipc}" {PCSCD_IPC_DIR} && exec "{binary}" --foreground -c "{conf_dir}"'
    log = (run_dir / "pcscd.log").open("ab")
    proc = subprocess.Popen(
        [_tool("unshare", "util-linux"), "--mount", "--propagation", "private", "sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # not killed by a Ctrl-C meant for the caller
    )
    log.close()
    (run_dir / "pcscd.pid").write_text(f"{proc.pid}\n")  # sh and unshare exec: pcscd's pid
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (readers.socket.exists() and wanted <= set(present_readers(readers))):
        if proc.poll() is not None:
            tail = (run_dir / "pcscd.log").read_text(errors="replace").strip().splitlines()
            raise StackError(f"pcscd exited ({proc.returncode}): {tail[-1] if tail else '?'}")
        if time.monotonic() > deadline:
            raise StackError(f"pcscd did not list {sorted(wanted)} in {START_TIMEOUT_S:.0f}s")
        time.sleep(0.1)


def stop_pcscd(run_dir: Path, timeout_s: float = 10.0) -> None:
    """Stop the run's pcscd (no other is touched)."""
    pid = _pid_of(run_dir / "pcscd.pid")
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
    (run_dir / "pcscd.pid").unlink(missing_ok=True)
