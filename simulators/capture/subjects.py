"""Who sits at a simulated recording station: a synthetic person and what goes wrong.

Same seed ⇒ same person. The person behind a NIK is :func:`simulation_seed` of it, so the demo's
earlier records, its recording and its live finger at activation all show one person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from simulators.capture.library import Library
from simulators.capture.render import Rendered, render


def simulation_seed(nik: str) -> str:
    """The simulated person behind a NIK; the seed does not reveal the NIK."""
    return hashlib.sha256(f"tuntas.biometric.sim|{nik}".encode()).hexdigest()[:16]


@dataclass
class Subject:
    """One person at the devices for one capture transaction.

    - ``poor_attempts[item] = n``: the first n captures of that item come out poor; a large n
      makes the item unreadable for good.
    - ``absent``: fingers (``right_thumb`` …) the scanner never detects (amputated, bandaged).
    """

    seed: str
    poor_attempts: Mapping[str, int] = field(default_factory=dict)
    absent: Collection[str] = ()
    # a person of the service's library (served as recorded, not rendered): (library, person)
    recorded: tuple[Library, int] | None = None
    _attempts: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def next_attempt(self, item: str) -> int:
        attempt = self._attempts.get(item, 0) + 1
        self._attempts[item] = attempt
        return attempt

    def capture(self, item: str, attempt: int) -> Rendered | None:
        """Attempt number ``attempt`` at ``item``; None: the device detected nothing."""
        kind, _, part = item.partition(".")
        if kind == "finger" and part in self.absent:
            return None
        if self.recorded is not None:
            library, person = self.recorded
            return library.capture(person, item)
        return render(self.seed, item, attempt, attempt <= self.poor_attempts.get(item, 0))
