"""``python -m services.biometric``: the biometric stage service."""

from __future__ import annotations

import asyncio
import sys

from services.biometric.main import serve
from services.biometric.settings import SERVICE, BiometricSettings
from services.runtime import logs
from services.runtime.errors import GiveUp


def main() -> int:
    settings = BiometricSettings()
    logs.configure(SERVICE, settings.log_level)
    try:
        asyncio.run(serve(settings))
    except GiveUp:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
