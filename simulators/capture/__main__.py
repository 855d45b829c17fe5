"""``python -m simulators.capture --port P [--library DIR]``: the simulated capture device
service (serving a library of people rendered beforehand, if given).
``python -m simulators.capture library --people N --out DIR``: write (extend) such a library.
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

    if argv[:1] == ["library"]:
        from simulators.capture.library import extend

        parser = argparse.ArgumentParser(prog="python -m simulators.capture library")
        parser.add_argument("--people", type=int, required=True, help="people it should hold")
        parser.add_argument("--out", type=Path, required=True, help="the library's folder")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
        args = parser.parse_args(argv[1:])
        rendered = extend(args.out, args.people, args.workers, lambda n: print(f"  {n} rendered"))
        print(f"library {args.out}: {args.people} people ({rendered} rendered now)")
        return 0

    import uvicorn

    from simulators.capture.library import Library
    from simulators.capture.service import create_app

    parser = argparse.ArgumentParser(prog="python -m simulators.capture")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--library", type=Path, help="people rendered beforehand, served in order")
    args = parser.parse_args(argv)
    library = Library(args.library) if args.library else None
    uvicorn.run(create_app(library), host=args.host, port=args.port, log_level="warning")
    return 0


sys.exit(main(sys.argv[1:]))
