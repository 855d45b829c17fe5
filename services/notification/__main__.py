"""``python -m services.notification``: the notification service."""

from __future__ import annotations

import asyncio
import sys

from services.notification.main import serve
from services.notification.settings import NotificationSettings
from services.runtime import logs
from services.runtime.errors import GiveUp


def main() -> int:
    settings = NotificationSettings()
    logs.configure("notification", settings.log_level)
    try:
        asyncio.run(serve(settings))
    except GiveUp:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
