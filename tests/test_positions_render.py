"""The positions screen, rendered into a string: every field a venue reports, and the net exposure."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from rich.console import Console

from hedgectl.cli import positions_cmd, render
from hedgectl.domain.types import Order, OrderStatus, OrderType, Position, Side
from hedgectl.engine.positions import PositionsReport, VenuePositions


@pytest.fixture
def out() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    buffer, errors = io.StringIO(), io.StringIO()
    render.use_consoles(
        Console(file=buffer, width=100, color_system=None), Console(file=errors, width=100, color_system=None)
    )
    yield buffer, errors
    render.use_consoles(None, None)


def test_positions_screen_shows_risk_fields_orders_and_net_exposure(out: tuple[io.StringIO, io.StringIO]) -> None:
    report = PositionsReport(
        [
            VenuePositions(
                "okx",
                [Position("okx", "BTC", D("-0.003"), D(95010), D(95100), D("-0.27"), D("3428147.9"), D(20), "cross")],
                [Order("okx", "BTC", "77", "c1", Side.BUY, OrderType.LIMIT, OrderStatus.NEW, D("0.001"),
                       price=D(94000))],
                {"BTC": "USDT"},
            ),
            VenuePositions("backpack", [Position("backpack", "BTC", D("0.002"), D(95000), D(95100), D("0.2"))],
                           [], {"BTC": "USDC"}),
            VenuePositions("aster", error="aster: unreachable"),
        ]
    )  # fmt: skip
    positions_cmd._render(SimpleNamespace(mode="paper", run_id="r1"), report)  # type: ignore[arg-type]
    text, errors = out[0].getvalue(), out[1].getvalue()
    assert "short" in text
    assert "3428147.9" in text
    assert "cross 20x" in text
    assert "-0.27 USDT" in text
    assert "0.2 USDC" in text
    assert "unreadable" in text
    assert "error: aster: could not be read: aster: unreachable" in errors
    assert "94000" in text  # the open order
    assert "-0.001" in text  # net exposure: -0.003 + 0.002
    assert "okx -0.003, backpack +0.002" in text
    assert not report.ok
