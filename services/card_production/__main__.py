"""``python -m services.card_production``: one station (TUNTAS_CARD_PRODUCTION_KECAMATAN=...)."""

from __future__ import annotations

import asyncio
import sys

from services.card_production.main import serve
from services.card_production.settings import CardProductionSettings
from services.runtime import logs
from services.runtime.errors import GiveUp


def main() -> None:
    settings = CardProductionSettings()  # kecamatan from the environment
    logs.configure(f"card_production.{settings.kecamatan}", settings.log_level)
    try:
        asyncio.run(serve(settings))
    except GiveUp:
        sys.exit(1)


if __name__ == "__main__":
    main()
