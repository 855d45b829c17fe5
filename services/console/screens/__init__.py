"""The screens, one module per role: each has ``MENU`` (its menu entries) and
``routes(console) -> APIRouter``; its templates live in ``templates/<role>/``.
Adding a role: write ``screens/<role>.py`` and its templates, then list it here."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from services.console.menu import Entry
from services.console.screens import caller, card, dashboard, desk, home, kasi, operator

SCREENS: Sequence[ModuleType] = (home, desk, kasi, dashboard, operator, card, caller)


def menu() -> list[Entry]:
    return [e for screen in SCREENS for e in getattr(screen, "MENU", ())]
