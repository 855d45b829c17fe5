"""``python -m services.console``: the office console (HTTP on TUNTAS_CONSOLE_HTTP_PORT)."""

import sys

from services.console.main import serve
from services.console.settings import ConsoleSettings
from services.runtime.service import main

settings = ConsoleSettings()
sys.exit(main("console", settings.log_level, lambda: serve(settings)))
