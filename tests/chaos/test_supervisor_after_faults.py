"""A process killed again and again, each time after it came back healthy, is restarted
promptly every time: a fault is not a crash loop (found by the first chaos run, where the
backoff doubled to 30 s for any process dying within a minute of its start and the day
stalled). Every restart is counted."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.waiting import wait_for
from tuntas import topology
from tuntas.chaos import faults
from tuntas.stack import cups
from tuntas.stack.prereq import free_port
from tuntas.supervisor import ProcessSpec, Supervisor

KILLS = 7
BASE_S = 0.2  # a crash loop's 7th wait would be 0.2 * 2**6 = 12.8 s


def _healthy_server(port: int, starts: Path) -> ProcessSpec:
    script = f"""
import http.server, json, time
open({str(starts)!r}, "a").write(f"{{time.time()}}\\n")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"status": "ok"}}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", {port}), H).serve_forever()
"""
    return ProcessSpec(
        "stage", [sys.executable, "-c", script], health_url=f"http://127.0.0.1:{port}/health"
    )


async def test_a_healthy_process_killed_repeatedly_is_restarted_without_growing_backoff(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts"
    supervisor = Supervisor(
        [_healthy_server(free_port(), starts)], tmp_path / "logs", backoff_base=BASE_S
    )
    state = supervisor.states["stage"]
    await supervisor.start()
    try:
        waits = []
        for kill in range(KILLS):
            await supervisor.wait_healthy(timeout=60)
            process = state.process
            assert process is not None
            killed_at = time.time()
            process.send_signal(signal.SIGKILL)
            await wait_for(
                lambda killed=process: (
                    state.process is not killed and state.health.get("status") == "ok"
                ),
                timeout=60,
                what=f"the restart after kill {kill + 1}",
            )
            waits.append(float(starts.read_text().split()[-1]) - killed_at)
        # Each restart waited the base backoff (plus scheduling), never a doubled one.
        assert max(waits) < 4.0, waits
        assert state.restarts == KILLS
        assert len(starts.read_text().split()) == KILLS + 1
    finally:
        await supervisor.stop(timeout=10)


async def test_a_day_that_fails_stops_the_fault_driver_at_once(tmp_path: Path) -> None:
    """The rounds still owed (``min_rounds``) are for a day that goes on; a day that ended on an
    error is reported at once instead of after them (the fifth large run looked stalled for
    15 minutes while the driver went on after its day had failed)."""
    supervisor = Supervisor([_healthy_server(free_port(), tmp_path / "starts")], tmp_path / "logs")
    await supervisor.start()
    plan = faults.FaultPlan(seed=3, mean_interval_s=0.05, kills_per_round=1, min_rounds=10_000)
    log = faults.FaultLog(tmp_path / "faults.jsonl")
    options = topology.Options(home=tmp_path, kecamatan=("350805",), run_name="driver-stops")
    queue = topology.queue("350805", options)  # the round's printer fault: a real CUPS queue
    await asyncio.to_thread(cups.ensure_cupsd)
    await asyncio.to_thread(cups.ensure_pdf_queue, queue, tmp_path / "cups-pdf")
    driver = faults.Driver(plan, supervisor, options, log, note=lambda _: None)
    try:
        await supervisor.wait_healthy(timeout=60)
        with pytest.raises(RuntimeError, match="the day failed"):
            async with driver.running():
                await wait_for(lambda: driver.rounds >= 2, timeout=60, what="two rounds of faults")
                failed = time.monotonic()
                raise RuntimeError("the day failed")
        # out once the faults in flight are healed (the printer started again), not 10,000
        # rounds later
        assert time.monotonic() - failed < 20
        assert driver.rounds < 10
        assert log.counts()["kill"] >= 1
    finally:
        await supervisor.stop()
        await asyncio.to_thread(cups.remove_pdf_queue, queue)
