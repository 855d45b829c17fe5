"""``python -m services.intake``: the front desk service (HTTP on TUNTAS_INTAKE_HTTP_PORT)."""

import sys

from services.intake.main import serve
from services.intake.settings import IntakeSettings
from services.runtime.service import main

settings = IntakeSettings()
sys.exit(main("intake", settings.log_level, lambda: serve(settings)))
