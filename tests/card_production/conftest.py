from tests.card_production.biometric_stub import biometric  # noqa: F401
from tests.card_production.hardware_fixtures import *  # noqa: F403
