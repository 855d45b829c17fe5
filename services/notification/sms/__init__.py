"""SMS to applicants over SMPP 3.4: encoding, templates, and the ESME client."""

from .client import SentSms, SmppClient, SmppConfig
from .errors import PermanentSmsError, SmsError, TransientSmsError
from .receipts import DeliveryReceipt

__all__ = [
    "DeliveryReceipt",
    "PermanentSmsError",
    "SentSms",
    "SmppClient",
    "SmppConfig",
    "SmsError",
    "TransientSmsError",
]
