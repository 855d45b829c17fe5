"""``python -m simulators.vchip``: one reader slot (hopper + virtual KTP-el chip).

    python -m simulators.vchip --vpcd-port 35963 --state-dir DIR [--hopper ADDRESS]
    python -m simulators.vchip --hopper ADDRESS --ctl "insert-blank KTP-0001"

``ADDRESS`` is a UNIX socket path or ``host:port``; by default ``DIR/hopper.sock``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from pathlib import Path

from simulators.vchip.address import default_hopper
from simulators.vchip.control import HopperControl
from simulators.vchip.slot import Slot


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.vchip", description=__doc__)
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument("--vpcd-port", type=int, default=35963, help="vpcd port of the slot")
    parser.add_argument("--host", default="127.0.0.1", help="where vpcd listens")
    parser.add_argument("--hopper", help="hopper socket (default STATE_DIR/hopper.sock)")
    parser.add_argument("--ctl", help="send one hopper command to the running slot and exit")
    args = parser.parse_args(argv)
    if args.hopper is None and args.state_dir is None:
        parser.error("give --state-dir or --hopper")
    hopper = args.hopper or default_hopper(args.state_dir)
    if args.ctl:
        print(json.dumps(HopperControl(hopper).send(args.ctl)))
        return
    if args.state_dir is None:
        parser.error("--state-dir is required to run the slot")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="vchip: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Slot(args.state_dir, args.vpcd_port, hopper, args.host).run())


main()
