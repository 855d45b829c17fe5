"""Recorded impressions: people rendered once, written to a folder, served later without
rendering (``python -m simulators.capture --library DIR``).

A real scanner hands over an image at no CPU cost to the host; the simulator renders each
capture (~260 ms of CPU per applicant, more than the biometric stage's own work). A benchmark
of the stage on a 2-core machine would measure the simulator, so it serves a library instead:
person ``k`` of the folder sits down at the ``k``-th new capture transaction, each person
once; when the library runs out, people are rendered again as without one.

Layout: ``DIR/<k>/<item>`` (the image bytes) and ``DIR/<k>/quality.json`` (item → the
device's score and media type); a person's folder is complete once its ``quality.json`` is
there (written last), so a library whose writing was stopped is extended, not trusted.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from simulators.capture.render import ITEMS, Rendered, render

_INDEX = "quality.json"


def library_seed(person: int) -> str:
    """The seed of the library's person ``person``: no demo or test person has it."""
    return f"library-{person}"


def write_person(folder: Path, person: int) -> None:
    """Render person ``person``'s first, good capture of every item into ``folder/<person>``."""
    where = folder / str(person)
    where.mkdir(parents=True, exist_ok=True)
    index = {}
    for item in ITEMS:
        rendered = render(library_seed(person), item, 1)
        (where / item).write_bytes(rendered.data)
        index[item] = {"quality": rendered.quality, "media_type": rendered.media_type}
    (where / _INDEX).write_text(json.dumps(index))


def complete(folder: Path) -> int:
    """How many people from 0 on the library holds, each with every item."""
    count = 0
    while (folder / str(count) / _INDEX).exists():
        count += 1
    return count


def extend(
    folder: Path, people: int, workers: int = 2, progress: Callable[[int], None] | None = None
) -> int:
    """Render the people the library lacks up to ``people`` (in ``workers`` processes);
    returns how many were rendered."""
    have = complete(folder)
    missing = range(have, people)
    if not missing:
        return 0
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        for done, _ in enumerate(pool.map(write_person, [folder] * len(missing), missing), 1):
            if progress is not None and (done % 100 == 0 or done == len(missing)):
                progress(done)
    return len(missing)


class Library:
    """The people of a library folder, handed out in order, each once."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._size = complete(folder)
        self._next = 0
        self._lock = threading.Lock()
        if self._size == 0:
            raise ValueError(f"{folder}: no recorded person (write one with `library --people`)")

    @property
    def size(self) -> int:
        return self._size

    def take(self) -> int | None:
        """The next person not yet handed out; None once every one has been."""
        with self._lock:
            if self._next >= self._size:
                return None
            self._next += 1
            return self._next - 1

    def capture(self, person: int, item: str) -> Rendered:
        where = self._folder / str(person)
        found = json.loads((where / _INDEX).read_text())[item]
        return Rendered(item, (where / item).read_bytes(), found["media_type"], found["quality"])
