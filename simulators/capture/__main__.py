"""``python -m simulators.capture --port P``: the simulated capture device service.
``python -m simulators.capture earlier --nik-file F --out O``: an earlier-records export."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_PORT = 4501


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["earlier"]:
        from simulators.capture.earlier import write_export

        parser = argparse.ArgumentParser(prog="python -m simulators.capture earlier")
        parser.add_argument("--nik-file", type=Path, required=True, help="one NIK per line")
        parser.add_argument("--out", type=Path, required=True, help="JSON lines to write")
        parser.add_argument(
            "--workers", type=int, default=os.cpu_count() or 1, help="rendering processes"
        )
        args = parser.parse_args(argv[1:])
        niks = [line.strip() for line in args.nik_file.read_text().splitlines() if line.strip()]
        workers = args.workers if len(niks) > 8 else 1  # a few lines: not worth the processes
        written = write_export(niks, args.out, workers)
        print(f"exported {written} earlier record(s) to {args.out}")
        return 0

    import uvicorn

    from simulators.capture.service import create_app

    parser = argparse.ArgumentParser(prog="python -m simulators.capture")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
    return 0


sys.exit(main(sys.argv[1:]))
