"""Following the shared gallery: every ABIS instance holds the whole index.

Each instance reads the gallery's changes after the last one it holds (``store.changes``,
numbered by ``seq``; ``rules.Position`` says which): at start, to build its index; before
every identify, which is what keeps the answer right (an applicant's insert commits before its
identify is requested, so the search holds every reference inserted before, on any instance);
and on a short timer, so that catch-up stays small. A change this instance wrote itself is
already in its index at that ``seq`` and is not opened again (``GalleryIndex.holds``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from services.abis import rules, store
from services.abis.index import DEDUPE_FINGERS, GalleryIndex, embed
from services.abis.sealing import GalleryKey
from services.runtime.db import Conn
from services.runtime.errors import is_transient
from services.runtime.service import Runtime

log = logging.getLogger("tuntas.abis")


@dataclass
class Follower:
    key: GalleryKey
    index: GalleryIndex
    page: int = 20_000  # changes per read
    position: rules.Position = field(default_factory=rules.Position)
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def catch_up(self, conn: Conn, progress: Callable[[int], None] = lambda n: None) -> int:
        """Apply every change committed since the last read; returns how many were new here.
        One reader at a time: a second waits, then reads what came after the first."""
        applied = 0
        async with self._reading:
            while True:
                read = await store.changes(
                    conn, self.position.high, sorted(self.position.gaps), self.page
                )
                fresh = [c for c in read.rows if not self.index.holds(c.reference_id, c.seq)]
                live = [c for c in fresh if c.sealed is not None]
                if live:
                    vectors = await asyncio.to_thread(self._embed, live)
                    self.index.add([c.reference_id for c in live], vectors, [c.seq for c in live])
                for change in fresh:
                    if change.sealed is None:
                        self.index.remove(change.reference_id, change.seq)
                complete = len(read.rows) < self.page
                self.position.read([c.seq for c in read.rows], complete, read.xmin, read.xmax)
                applied += len(fresh)
                progress(applied)
                if complete:
                    return applied

    def _embed(self, changes: Sequence[store.Change]) -> NDArray[np.float32]:
        """Open and embed sealed references (CPU work, off the event loop)."""
        opened = [self.key.open(c.reference_id, *c.sealed) for c in changes if c.sealed]
        batch = np.frombuffer(b"".join(opened), dtype=np.int8)
        return embed(batch.reshape(len(opened), len(DEDUPE_FINGERS), -1))


def every(follower: Follower, interval_s: float) -> Callable[[Runtime], Awaitable[None]]:
    """The timer: catch up every ``interval_s`` while the service runs (a failed read is
    logged and tried again at the next tick; identify catches up on its own)."""

    async def follow_gallery(runtime: Runtime) -> None:
        quiet = False  # a transient failure already logged
        while not runtime.stop.is_set():
            try:
                await asyncio.wait_for(runtime.stop.wait(), interval_s)
            except TimeoutError:
                pass
            else:
                return
            try:
                async with runtime.pool.acquire() as conn:
                    await follower.catch_up(conn)
            except Exception as error:
                if not is_transient(error):
                    log.exception(
                        "following the gallery failed; trying again in %.1f s", interval_s
                    )
                elif not quiet:  # the database away (restarting): once, not every tick
                    log.warning("following the gallery paused: %r; trying again", error)
                quiet = is_transient(error)
            else:
                if quiet:
                    log.info("following the gallery again")
                quiet = False

    return follow_gallery
