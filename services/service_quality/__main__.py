"""``python -m services.service_quality``: complaints, IKM survey, monthly report."""

import sys

from services.runtime.service import main
from services.service_quality.main import serve
from services.service_quality.settings import ServiceQualitySettings

settings = ServiceQualitySettings()
sys.exit(main("service_quality", settings.log_level, lambda: serve(settings)))
