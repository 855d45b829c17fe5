"""``python -m services.validation``: the validation stage (consumer, relay, work-queue API)."""

from __future__ import annotations

import asyncio
import sys

from services.runtime import logs
from services.runtime.errors import GiveUp
from services.validation.main import serve
from services.validation.settings import SERVICE, ValidationSettings


def main() -> int:
    settings = ValidationSettings()
    logs.configure(SERVICE, settings.log_level)
    try:
        asyncio.run(serve(settings))
    except GiveUp:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
