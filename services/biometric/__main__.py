"""``python -m services.biometric``: the biometric stage service."""

import sys

from services.biometric.main import serve
from services.biometric.settings import BiometricSettings
from services.runtime.service import main

settings = BiometricSettings()
sys.exit(main("biometric", settings.log_level, lambda: serve(settings)))
