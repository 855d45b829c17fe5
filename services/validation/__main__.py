"""``python -m services.validation``: the validation stage (consumer, relay, work-queue API)."""

import sys

from services.runtime.service import main
from services.validation.main import serve
from services.validation.settings import ValidationSettings

settings = ValidationSettings()
sys.exit(main("validation", settings.log_level, lambda: serve(settings)))
