"""``python -m services.abis``: Tuntas's ABIS, the 1:N search behind the biometric stage."""

import sys

from services.abis.main import serve
from services.abis.settings import AbisSettings
from services.runtime.service import main

settings = AbisSettings()
sys.exit(main("abis", settings.log_level, lambda: serve(settings)))
