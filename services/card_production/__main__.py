"""``python -m services.card_production``: one station (TUNTAS_CARD_PRODUCTION_KECAMATAN=...)."""

import sys

from services.card_production.main import serve
from services.card_production.settings import CardProductionSettings
from services.runtime.service import main

settings = CardProductionSettings()
sys.exit(main(f"card_production.{settings.kecamatan}", settings.log_level, lambda: serve(settings)))
