"""The Dinas courier: brings a batch of blank KTP-el cards to a kecamatan's station and hands
it over the way the office books it, through the station's own HTTP API
(``POST /stock/batches``: a batch reference and the serial range printed on the box).

    python -m simulators.courier --station http://127.0.0.1:8110 --kecamatan 350805 --count 50
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

SERIALS_PER_BATCH = 10_000  # each delivery's serials start on a fresh block of this size


class DeliveryRefused(Exception):
    """The station did not book the batch."""


@dataclass
class Courier:
    """Numbers its batches per kecamatan, so serial ranges never overlap."""

    http: httpx.AsyncClient
    delivered: dict[str, int] = field(default_factory=dict)  # kecamatan -> batches so far

    async def deliver(self, station_url: str, kecamatan: str, count: int, label: str) -> str:
        """Hand over ``count`` blanks; returns the batch reference. 200 (the same batch
        again) and 201 both mean booked."""
        n = self.delivered.get(kecamatan, 0) + 1
        start = (n - 1) * SERIALS_PER_BATCH + 1
        ref = f"DEMO-{kecamatan}-{n}-{label}"
        body: dict[str, Any] = {
            "batch_ref": ref,
            "first_serial": f"B{kecamatan}-{start:07d}",
            "last_serial": f"B{kecamatan}-{start + count - 1:07d}",
            "received_by": f"operator.{kecamatan}",
        }
        answer = await self.http.post(f"{station_url}/stock/batches", json=body)
        if answer.status_code not in (200, 201):
            raise DeliveryRefused(f"{ref}: {answer.status_code} {answer.text[:300]}")
        self.delivered[kecamatan] = n
        return ref


async def _main(args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        ref = await Courier(http).deliver(args.station, args.kecamatan, args.count, args.label)
    print(f"delivered {args.count} blanks as {ref}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m simulators.courier", description=__doc__)
    parser.add_argument("--station", required=True, help="the station's base URL")
    parser.add_argument("--kecamatan", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--label", default="kurir")
    asyncio.run(_main(parser.parse_args()))
