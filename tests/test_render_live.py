"""A live line (a countdown, bootstrap's hold line) is redrawn in place: it must stay one line at any width."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from rich.console import Console

from hedgectl.cli import render

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def narrow() -> Iterator[io.StringIO]:
    out = io.StringIO()
    render.use_consoles(Console(file=out, width=40, force_terminal=True, color_system=None), None)
    yield out
    render.use_consoles(None, None)


def test_a_live_line_longer_than_the_terminal_is_cut_never_wrapped(narrow: io.StringIO) -> None:
    with render.live_text("first " * 20) as update:
        update("net if closed -0.1848 USDT " * 5)
    text = narrow.getvalue()
    assert "\x1b[1A" not in text  # one line: never redrawn by moving the cursor up
    frames = [ANSI.sub("", f) for f in re.split(r"\r|\n", text)]
    drawn = [f for f in frames if f.strip()]
    assert drawn
    assert all(len(f) <= 40 for f in drawn), drawn
    assert any(f.startswith("net if closed") and f.endswith("…") for f in drawn), drawn
