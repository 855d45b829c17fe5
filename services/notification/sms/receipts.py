"""Delivery receipts: the SMSC's deliver_sm with esm_class "SMSC delivery receipt"."""

from __future__ import annotations

import re
from dataclasses import dataclass

ESM_CLASS_TYPE_MASK = 0x3C
ESM_CLASS_DELIVERY_RECEIPT = 0x04

# SMPP 3.4 appendix B: "id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:... stat:...
# err:E text:...". Only id and stat are needed; the format is informal, so parse leniently.
_FIELD = re.compile(r"(id|stat|err|done date):(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class DeliveryReceipt:
    message_id: str  # the id the SMSC returned in submit_sm_resp
    stat: str  # DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD
    err: str
    done_date: str
    destination: str  # the handset the message went to (the receipt's source_addr)

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"


def is_delivery_receipt(esm_class: int) -> bool:
    return esm_class & ESM_CLASS_TYPE_MASK == ESM_CLASS_DELIVERY_RECEIPT


def parse_receipt(text: str, destination: str) -> DeliveryReceipt:
    """Parse the receipt text; ValueError when there is no id or stat."""
    fields = {k.lower(): v for k, v in _FIELD.findall(text)}
    if not fields.get("id") or not fields.get("stat"):
        raise ValueError(f"not a delivery receipt: {text!r}")
    return DeliveryReceipt(
        message_id=fields["id"],
        stat=fields["stat"].upper(),
        err=fields.get("err", ""),
        done_date=fields.get("done date", ""),
        destination=destination,
    )
