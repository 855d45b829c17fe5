"""SQL text the stores build from column names their own code chose (never from input)."""

from __future__ import annotations

from collections.abc import Iterable


def assignments(columns: Iterable[str], first: int) -> str:
    """``a = $3, b = $4``: a SET list for ``columns``, their values bound from ``$first`` on."""
    return ", ".join(f"{column} = ${n}" for n, column in enumerate(columns, start=first))
