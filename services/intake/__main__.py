"""``python -m services.intake``: the front desk service (HTTP on TUNTAS_INTAKE_HTTP_PORT)."""

from __future__ import annotations

import asyncio
import logging
import sys

from services.intake.main import SERVICE, serve
from services.intake.settings import IntakeSettings
from services.runtime import logs
from services.runtime.errors import GiveUp


def main() -> int:
    settings = IntakeSettings()
    logs.configure(SERVICE, settings.log_level)
    try:
        asyncio.run(serve(settings))
    except GiveUp as error:
        logging.getLogger("tuntas.intake").error("giving up: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
