"""A result carries its own exit code and the status its journal run is recorded with, one map for both."""

from __future__ import annotations

import pytest

from hedgectl.engine.maker_taker.config import LoopConfig
from hedgectl.engine.maker_taker.loop import LoopResult


@pytest.mark.parametrize(
    ("changes", "code", "status"),
    [
        ({}, 0, "ok"),
        ({"error": "taker refused"}, 1, "failed"),
        ({"interrupted": True}, 130, "interrupted"),
        ({"interrupted": True, "exposure": "backpack +1 ASTER"}, 3, "exposure"),
    ],
)
def test_a_loop_result_says_its_exit_code_and_journal_status(
    changes: dict[str, object], code: int, status: str
) -> None:
    result = LoopResult(config=LoopConfig(), **changes)  # type: ignore[arg-type]
    assert (result.exit_code, result.status) == (code, status)
