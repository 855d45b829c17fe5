"""``python -m services.notification``: the notification service."""

import sys

from services.notification.main import serve
from services.notification.settings import NotificationSettings
from services.runtime.service import main

settings = NotificationSettings()
sys.exit(main("notification", settings.log_level, lambda: serve(settings)))
