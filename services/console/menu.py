"""The role → menu table: what a staff member's menu shows. Each screen module declares its
own entries (``MENU``); ``screens.SCREENS`` lists the modules, so adding a role's screens
touches that one line and the role's own files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.runtime.auth import DISTRICT_ADMIN, Identity


@dataclass(frozen=True)
class Entry:
    path: str
    label: str  # an i18n key
    roles: frozenset[str]


def entry(path: str, label: str, *roles: str) -> Entry:
    return Entry(path, label, frozenset(roles))


def menu_for(identity: Identity, entries: Iterable[Entry]) -> list[Entry]:
    """The entries of the roles ``identity`` holds (the district admin sees every one)."""
    if DISTRICT_ADMIN in identity.roles:
        return list(entries)
    return [e for e in entries if e.roles & identity.roles]
