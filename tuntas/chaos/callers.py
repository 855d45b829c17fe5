"""Who the fuzzer calls as: the district admin (passes every staff route) or, on the routes
for card stations only, a station's machine client. Tokens from the run's identity provider,
cached until shortly before they expire (a long fuzz outlives one). The names and secrets are
the local realm's (deploy/keycloak/tuntas-realm.json: a demo user's password is its name, a
client's secret ``local-only-<client>``), as in tests/kit/tokens.py."""

from __future__ import annotations

import os
import threading
import time

import httpx

MARGIN_S = 30.0
DISTRICT_ADMIN = "admin.kabupaten"
STATION_ROUTES = ("/card-data",)  # services/biometric/api/stations.py: access.station()
ISSUER_ENV, STATION_ENV = "TUNTAS_FUZZ_ISSUER", "TUNTAS_FUZZ_STATION"  # for the hooks module


class Callers:
    def __init__(self, issuer: str, station: str) -> None:
        self.issuer = issuer.rstrip("/")
        self.station = station  # the kecamatan whose card station reads card data
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()  # one login at a time per process

    @classmethod
    def from_env(cls) -> Callers | None:
        issuer = os.environ.get(ISSUER_ENV)
        return cls(issuer, os.environ[STATION_ENV]) if issuer else None

    def env(self) -> dict[str, str]:
        return {ISSUER_ENV: self.issuer, STATION_ENV: self.station}

    def _form(self, path: str) -> tuple[str, dict[str, str]]:
        if any(part in path for part in STATION_ROUTES):
            client = f"station-{self.station}"
            form = {"grant_type": "client_credentials", "client_id": client}
            return client, {**form, "client_secret": f"local-only-{client}"}
        user = DISTRICT_ADMIN
        form = {"grant_type": "password", "client_id": "tuntas-console", "scope": "openid"}
        return user, {**form, "username": user, "password": user}

    def token(self, path: str) -> str:
        who, form = self._form(path)
        with self._lock:
            cached = self._cache.get(who)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            answer = httpx.post(f"{self.issuer}/protocol/openid-connect/token", data=form)
            answer.raise_for_status()
            body = answer.json()
            expires = time.monotonic() + float(body["expires_in"]) - MARGIN_S
            self._cache[who] = (str(body["access_token"]), expires)
            return self._cache[who][0]

    def header(self, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(path)}"}
