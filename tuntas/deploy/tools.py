"""The tools the chart is checked with, fetched through package registries into the cache:
Helm (a Go module, built by ``go install``) and the CRD schemas of the operators the chart
targets (``crds``). ``TUNTAS_CACHE`` (default ``~/.cache/tuntas``) holds them between runs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tuntas.stack.errors import StackError

HELM_VERSION = "v4.3.2"
HELM_MODULE = "helm.sh/helm/v4/cmd/helm"


def cache() -> Path:
    return Path(os.environ.get("TUNTAS_CACHE", Path.home() / ".cache" / "tuntas")).resolve()


def run(command: list[str], what: str, env: dict[str, str] | None = None) -> str:
    """Run a fetching or building command; its output's last line names a failure."""
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines() or ["?"]
        errors = [line for line in lines if line.startswith("Error")] or lines[-1:]
        raise StackError(f"{what} failed: {errors[0][:300]}")
    return result.stdout


def go() -> str:
    # Go's own installer puts it in /usr/local/go/bin, often not on a service's PATH.
    found = shutil.which("go") or next(iter(glob.glob("/usr/local/go/bin/go")), None)
    if found is None:
        raise StackError("Go is needed to build Helm and fetch CloudNativePG's CRDs")
    return found


def helm() -> Path:
    """The pinned Helm, built once by ``go install`` (a few minutes the first time)."""
    folder = cache() / "tools" / f"helm-{HELM_VERSION}"
    binary = folder / "helm"
    if not binary.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="helm-", dir=folder.parent))
        run(
            [go(), "install", f"{HELM_MODULE}@{HELM_VERSION}"],
            f"go install {HELM_MODULE}@{HELM_VERSION}",
            {"GOBIN": str(staging)},
        )
        staging.rename(folder)
    return binary
