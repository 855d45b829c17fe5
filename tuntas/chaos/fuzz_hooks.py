"""Schemathesis hooks (``SCHEMATHESIS_HOOKS=tuntas.chaos.fuzz_hooks``): every generated request
carries the token of :class:`tuntas.chaos.callers.Callers` when the fuzzer names an issuer;
without one the requests go out bare (401 is the right answer, a 5xx never)."""

from __future__ import annotations

from typing import Any

import schemathesis

from tuntas.chaos.callers import STATION_ROUTES, Callers

_callers = Callers.from_env()


def _kind(case: Any, context: Any) -> str:
    path = str(context.operation.path)
    return "station" if any(part in path for part in STATION_ROUTES) else "staff"


if _callers is not None:
    callers = _callers

    @schemathesis.auth(refresh_interval=120, cache_by_key=_kind)
    class Bearer:
        def get(self, case: Any, context: Any) -> str:
            return callers.token(str(context.operation.path))

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
