from tests.card_production.biometric_stub import biometric  # noqa: F401
