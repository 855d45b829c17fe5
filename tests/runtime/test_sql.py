"""services.runtime.sql: the SET lists the stores build."""

from __future__ import annotations

from services.runtime import sql


def test_assignments_number_the_columns_from_the_first_free_placeholder() -> None:
    assert sql.assignments(["state", "held"], first=2) == "state = $2, held = $3"
    assert sql.assignments({"last_error": None}, first=3) == "last_error = $3"
