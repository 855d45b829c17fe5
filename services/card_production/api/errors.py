"""The workflow's refusals as HTTP answers."""

from __future__ import annotations

from fastapi import HTTPException

from services.card_production.workflow import Conflict, NotFound, Unavailable


def fail(exc: Exception) -> HTTPException:
    """404 unknown, 409 not in a state for it, 503 a device or the biometric service away."""
    code = {NotFound: 404, Conflict: 409, Unavailable: 503}.get(type(exc), 400)
    return HTTPException(code, str(exc))
