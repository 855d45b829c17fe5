"""Keycloak (the staff identity provider) from the Maven Central distribution, in dev mode.

Each node runs its own copy of the distribution under ``TUNTAS_HOME``: Keycloak writes its
database, transaction logs and its build (``lib/quarkus``) inside its home folder, so nodes must
not share one. The copy hard-links the cached jars (no extra disk) and copies what Keycloak
rewrites. The first start "augments" the build for dev mode (~20 s); the result is kept in the
cache so later fresh nodes (a test session, a wiped ``TUNTAS_HOME``) skip it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tuntas.stack import prereq, procs
from tuntas.stack.errors import StackError
from tuntas.stack.java import JavaNode, mvn_into_staging, pinned_version

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "deploy" / "keycloak" / "pom.xml"
REALM_FILE = REPO_ROOT / "deploy" / "keycloak" / "tuntas-realm.json"
REALM = "tuntas"
# The bootstrap admin of a dev server listening on loopback only: local stack, never production.
LOCAL_ADMIN = "admin"


def keycloak_version() -> str:
    return pinned_version(POM, "keycloak")


def ensure_dist(cache_dir: Path) -> Path:
    """Fetch and unpack the distribution once into ``cache_dir/keycloak-<version>``."""
    version = keycloak_version()
    dist = cache_dir / f"keycloak-{version}"
    if (dist / "bin" / "kc.sh").exists():
        return dist
    staging = mvn_into_staging(POM, "dependency:unpack", cache_dir, f"Keycloak {version}")
    unpacked = staging / f"keycloak-{version}"
    if not (unpacked / "bin" / "kc.sh").exists():
        shutil.rmtree(staging, ignore_errors=True)
        raise StackError(f"the Keycloak {version} archive has no bin/kc.sh")
    shutil.rmtree(dist, ignore_errors=True)
    unpacked.rename(dist)  # atomic: a half-unpacked cache never looks complete
    shutil.rmtree(staging, ignore_errors=True)
    return dist


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem: copy instead
        shutil.copy2(src, dst)


@dataclass(frozen=True)
class KeycloakNode(JavaNode):
    """``home`` also holds the node's server copy, with its data."""

    PIDFILE = "keycloak.pid"

    heap: str = "512m"

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/{REALM}"

    @property
    def _server(self) -> Path:
        return self.home / f"server-{keycloak_version()}"

    @property
    def _dev_build(self) -> Path:
        """The cached dev-mode build (``lib/quarkus`` after a first start)."""
        return self.cache_dir / f"keycloak-{keycloak_version()}-dev-build"

    def start(self, timeout: float = 240.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the server without waiting, so the stack can start the rest meanwhile."""
        if self.is_running():
            return
        java = prereq.require_java()
        prereq.require_disk(self.home)
        prereq.require_free_port(self.port, "Keycloak")
        self._prepare_server(ensure_dist(self.cache_dir))
        env = {
            **os.environ,
            "KC_BOOTSTRAP_ADMIN_USERNAME": LOCAL_ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": LOCAL_ADMIN,
            "JAVA_OPTS_KC_HEAP": f"-Xms64m -Xmx{self.heap}",
            "PATH": f"{Path(java).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop("JAVA_HOME", None)  # kc.sh prefers JAVA_HOME; use the java just checked
        procs.spawn(
            [
                str(self._server / "bin" / "kc.sh"),
                "start-dev",
                "--http-host=127.0.0.1",
                f"--http-port={self.port}",
                "--import-realm",
            ],
            self.pidfile,
            self.logfile,
            env=env,
        )

    def wait_ready(self, timeout: float = 240.0) -> None:
        procs.wait_until(
            lambda: openid_configuration_answers(self.issuer),
            timeout,
            "Keycloak",
            alive=self.is_running,
        )
        self._keep_dev_build()

    def _prepare_server(self, dist: Path) -> None:
        server = self._server
        if not (server / "bin" / "kc.sh").exists():
            shutil.rmtree(server, ignore_errors=True)
            shutil.copytree(dist, server, copy_function=_link_or_copy)
            build = self._dev_build if self._dev_build.exists() else dist / "lib" / "quarkus"
            shutil.rmtree(server / "lib" / "quarkus")
            shutil.copytree(build, server / "lib" / "quarkus")
        imports = server / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        realm = REALM_FILE.read_bytes()
        imported = imports / REALM_FILE.name
        if imported.exists() and imported.read_bytes() != realm:
            # Import skips an existing realm: drop the dev database so the new file wins.
            shutil.rmtree(server / "data" / "h2", ignore_errors=True)
        imported.write_bytes(realm)

    def _keep_dev_build(self) -> None:
        if self._dev_build.exists():
            return
        staging = Path(tempfile.mkdtemp(prefix="keycloak-build-", dir=self.cache_dir))
        shutil.copytree(self._server / "lib" / "quarkus", staging / "quarkus")
        with contextlib.suppress(OSError):  # another node kept its build first
            (staging / "quarkus").rename(self._dev_build)
        shutil.rmtree(staging, ignore_errors=True)


def openid_configuration_answers(issuer: str) -> bool:
    """ "Ready" means the realm's discovery document is served (the realm is imported)."""
    try:
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False
