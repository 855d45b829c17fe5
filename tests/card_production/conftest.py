from tests.card_production.hardware_fixtures import *  # noqa: F403
