"""What the stack's Java servers (Kafka, Keycloak) share: a version pinned in a Maven pom, the
artifacts fetched once into the cache by ``mvn``, one server process tracked by a pid file."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from tuntas.stack import prereq, procs
from tuntas.stack.errors import StackError


def pinned_version(pom: Path, name: str) -> str:
    """``<name.version>`` of ``pom``: each version is written in one place only."""
    tag = re.escape(f"{name}.version")
    found = re.search(rf"<{tag}>([^<]+)</{tag}>", pom.read_text())
    if found is None:
        raise StackError(f"no <{name}.version> in {pom}")
    return found.group(1)


def mvn_into_staging(pom: Path, goal: str, cache_dir: Path, what: str) -> Path:
    """Run ``mvn <goal>`` of ``pom`` into a fresh folder under ``cache_dir`` and return it; the
    caller renames what it needs into place, so a half-fetched cache never looks complete."""
    mvn = prereq.require_mvn()
    prereq.require_disk(cache_dir)
    staging = Path(tempfile.mkdtemp(prefix="mvn-", dir=cache_dir))
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), goal, f"-DoutputDirectory={staging}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["?"]
        raise StackError(
            f"mvn could not fetch {what} (is Maven Central reachable?): {last[0][:200]}"
        )
    return staging


@dataclass(frozen=True)
class JavaNode:
    """One server of the local stack, started detached and found again by its pid file."""

    PIDFILE: ClassVar[str]

    home: Path  # this node's folder: its config, data, log and pid file
    cache_dir: Path
    port: int

    @property
    def pidfile(self) -> Path:
        return self.home / self.PIDFILE

    @property
    def logfile(self) -> Path:
        return self.home / "server.log"

    def is_running(self) -> bool:
        return procs.read_pid(self.pidfile) is not None

    def stop(self) -> bool:
        return procs.stop(self.pidfile, timeout=30.0)
