"""Who may work a station: its own office's staff (and the district admin), nobody else."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from services.card_production.workflow import Station
from services.runtime.auth import Access, Identity, own_office


def station_staff(access: Access, station: Station, *roles: str) -> Any:
    """A route of this station for these roles; another kecamatan's staff get 403."""
    holder = access.staff(*roles)

    def dependency(identity: Identity = holder) -> Identity:
        own_office(identity, station.kecamatan)
        return identity

    return Depends(dependency)
