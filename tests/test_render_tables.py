"""render.make_table on a narrow console: numbers and names whole, free text wrapped at its spaces, nothing past
the width."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from hedgectl.cli import render


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    render.use_consoles(None, None)


def _draw(width: int, columns: list[str], rows: list[list[object]]) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    render.use_consoles(console, console)
    render.table("a title long enough to wrap on a narrow terminal, at its spaces only", columns, rows)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return out.splitlines()


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999999.99"), places=4, allow_nan=False)


@given(st.lists(prices, min_size=9, max_size=9), st.sampled_from([40, 60, 80]))
def test_a_number_is_never_split_and_no_line_is_wider_than_the_console(values: list[Decimal], width: int) -> None:
    columns = ["venue", *(f"figure {i}" for i in range(8))]
    lines = _draw(width, columns, [["backpack", *values[1:]]])
    assert max(len(line) for line in lines) <= width
    cells = {c.strip() for line in lines for c in line.split("│")}
    assert "backpack" in cells
    assert all(render.fmt(v) in cells for v in values[1:])


def test_free_text_wraps_at_its_spaces() -> None:
    lines = _draw(40, ["venue", "status"], [["aster", "the venue refused the order: price outside the band"]])
    assert max(len(line) for line in lines) <= 40
    words = {w for line in lines for c in line.split("│") for w in c.split()}
    assert {"refused", "outside", "band"} <= words


def test_a_split_table_repeats_every_key_column_so_each_part_names_its_rows() -> None:
    """Scan has a row per pair of venues: its base alone repeats (BTC, BTC), so each part of a table split for a
    narrow terminal repeats base, long and short."""
    console = Console(file=io.StringIO(), width=60, color_system=None)
    render.use_consoles(console, console)
    columns = ["base", "long", "short", *(f"figure {i}" for i in range(6))]
    rows = [["BTC", "binance", "okx", *range(100000, 100006)], ["BTC", "aster", "backpack", *range(200000, 200006)]]
    console.print(render.make_table(None, columns, rows, key=3))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60
    headers = [line for line in lines if "base" in line]
    assert len(headers) >= 2  # split
    assert all("long" in h and "short" in h for h in headers)
    rows_drawn = [[c.strip() for c in line.split("│")[1:4]] for line in lines if "BTC" in line]
    assert rows_drawn.count(["BTC", "binance", "okx"]) == len(headers)
    assert rows_drawn.count(["BTC", "aster", "backpack"]) == len(headers)
