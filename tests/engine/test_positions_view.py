"""The positions view's reading rules: one venue failing or not listing the symbol does not hide the others."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from hedgectl.domain.types import Market, Order, Position
from hedgectl.engine.positions import read_positions
from hedgectl.errors import SymbolNotListed, Unavailable, UsageError


class _Venue:
    def __init__(self, name: str, qty: D | None = None, error: Exception | None = None) -> None:
        self.name, self.qty, self.error = name, qty, error

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        if self.error is not None:
            raise self.error
        return [] if self.qty is None else [Position(self.name, "ASTER", self.qty, D("1.2"), D("1.3"))]

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return []

    async def market(self, symbol: str) -> Any:
        return Market(self.name, symbol, symbol, symbol, "USDC" if self.name == "backpack" else "USDT",
                      D("0.0001"), D("0.1"), D("0.1"))  # fmt: skip


async def test_a_venue_without_the_symbol_is_not_listed_and_the_others_still_count() -> None:
    venues = [
        _Venue("backpack", D(10)),
        _Venue("aster", D(-10)),
        _Venue("okx", error=SymbolNotListed("okx", "no linear USDT perpetual for ASTER")),
        _Venue("binance", error=Unavailable("binance", "HTTP 503")),
    ]
    report = await read_positions(venues, "ASTER")  # type: ignore[arg-type]
    by_venue = {v.venue: v for v in report.venues}
    assert by_venue["okx"].not_listed
    assert by_venue["okx"].error is None
    assert by_venue["binance"].error == "binance: HTTP 503"
    assert by_venue["backpack"].pnl_asset == {"ASTER": "USDC"}
    [aster] = report.net_exposure()
    assert (aster.net_qty, aster.by_venue) == (D(0), {"backpack": D(10), "aster": D(-10)})
    assert not report.ok  # binance could not be read


async def test_a_symbol_no_venue_lists_is_a_usage_error() -> None:
    venues = [_Venue(n, error=SymbolNotListed(n, "no perpetual for XYZ")) for n in ("backpack", "aster")]
    with pytest.raises(UsageError, match="no venue lists a perpetual for XYZ"):
        await read_positions(venues, "XYZ")  # type: ignore[arg-type]
