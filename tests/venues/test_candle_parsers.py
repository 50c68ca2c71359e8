"""Candle parsers: every venue's kline shape (OKX, Backpack, Binance and Aster), numbers as strings and as
numbers, read to the same candles; a row that is not a candle (high below the close, a price of 0, garbage) is a
broken reply, never a price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import Market
from hedgectl.errors import BadResponse
from hedgectl.venues.backpack import parse as backpack
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.okx import parse as okx

MINUTE = timedelta(minutes=1)
START_MS = 1_796_655_720_000  # a whole minute
OKX_MARKET = Market(
    "okx", "BTC", "BTC-USDT-SWAP", "BTC", "USDT", Decimal("0.1"), Decimal("0.0001"), Decimal("0.0001"),
    contract_size=Decimal("0.01"),
)  # fmt: skip


@st.composite
def candle_values(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """open, high, low, close, volume that make a candle."""
    price = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4)
    o, c = draw(price), draw(price)
    high = max(o, c) + draw(st.decimals(min_value=0, max_value=100, places=4))
    low = min(o, c) - draw(st.decimals(min_value=0, max_value=min(o, c) - Decimal("0.0001"), places=4))
    return o, high, low, c, draw(st.decimals(min_value=0, max_value=10**6, places=3))


def _as(value: Decimal, as_text: bool) -> Any:
    """A figure as a venue may send it: a numeric string, or a JSON number (decoded as Decimal or int)."""
    if as_text:
        return str(value)
    return int(value) if value == value.to_integral_value() else value


rows = st.lists(st.tuples(candle_values(), st.booleans()), min_size=1, max_size=20)


@given(rows)
def test_okx_candles_newest_first_read_oldest_first_whatever_the_representation(
    drawn: list[tuple[tuple[Decimal, ...], bool]],
) -> None:
    data = []
    for i, ((o, h, low, c, vol), as_text) in enumerate(drawn):
        ts = START_MS + i * 60_000
        data.append(
            [_as(Decimal(ts), as_text), *(_as(x, as_text) for x in (o, h, low, c)), "1", _as(vol, as_text), "0", "1"]
        )
    candles = okx.parse_candles({"code": "0", "msg": "", "data": list(reversed(data))}, OKX_MARKET, MINUTE)
    assert [c.open_at for c in candles] == [
        datetime.fromtimestamp((START_MS + i * 60_000) / 1000, tz=UTC) for i in range(len(drawn))
    ]
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in candles] == [v for v, _ in drawn]
    assert all(c.venue == "okx" and c.symbol == "BTC" and c.interval == MINUTE for c in candles)


@given(rows, st.sampled_from(["binance", "aster"]))
def test_binance_family_klines_read_whatever_the_representation(
    drawn: list[tuple[tuple[Decimal, ...], bool]], venue: str
) -> None:
    wire = []
    for i, ((o, h, low, c, vol), as_text) in enumerate(drawn):
        ts = START_MS + i * 60_000
        figures = [_as(x, as_text) for x in (o, h, low, c, vol)]
        wire.append([_as(Decimal(ts), as_text), *figures, ts + 59_999, "1", 3, "0", "0", "0"])
    candles = FamilyParser(venue).candles(list(reversed(wire)), "BTC", MINUTE)
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in candles] == [v for v, _ in drawn]
    assert [c.open_at for c in candles] == sorted(c.open_at for c in candles)
    assert all(c.venue == venue for c in candles)


@given(rows)
def test_backpack_klines_read_whatever_the_representation(drawn: list[tuple[tuple[Decimal, ...], bool]]) -> None:
    wire = []
    for i, ((o, h, low, c, vol), as_text) in enumerate(drawn):
        start = datetime.fromtimestamp(START_MS / 1000 + i * 60, tz=UTC)
        wire.append(
            {
                "start": start.strftime("%Y-%m-%d %H:%M:%S"),
                "end": (start + MINUTE).strftime("%Y-%m-%d %H:%M:%S"),
                **{
                    k: _as(x, as_text)
                    for k, x in zip(("open", "high", "low", "close", "volume"), (o, h, low, c, vol), strict=True)
                },
                "quoteVolume": "1",
                "trades": "3",
            }
        )
    candles = backpack.parse_klines(wire, "BTC", MINUTE)
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in candles] == [v for v, _ in drawn]
    assert candles[0].open_at == datetime.fromtimestamp(START_MS / 1000, tz=UTC)


@pytest.mark.parametrize(
    ("o", "h", "low", "c"),
    [
        ("10", "9", "8", "9.5"),
        ("10", "11", "10.5", "10.2"),
        ("0", "1", "0", "1"),
        ("10", "x", "9", "10"),
        ("10", None, "9", "10"),
    ],
)
def test_a_row_that_is_not_a_candle_is_a_broken_reply(o: str, h: Any, low: str, c: str) -> None:
    with pytest.raises(BadResponse):
        okx.parse_candles(
            {"code": "0", "data": [[str(START_MS), o, h, low, c, "1", "1", "1", "1"]]}, OKX_MARKET, MINUTE
        )
    with pytest.raises(BadResponse):
        backpack.parse_klines(
            [{"start": "2026-12-07 12:00:00", "open": o, "high": h, "low": low, "close": c, "volume": "1"}],
            "BTC",
            MINUTE,
        )


def test_a_reply_that_is_not_a_list_of_rows_is_a_broken_reply() -> None:
    for reply in ({"code": "0", "data": {}}, {"code": "0", "data": [["1", "2"]]}, []):
        with pytest.raises(BadResponse):
            okx.parse_candles(reply, OKX_MARKET, MINUTE)
    for wire in (
        {},
        [["2026-12-07", "1"]],
        [{"start": "yesterday", "open": "1", "high": "1", "low": "1", "close": "1"}],
    ):
        with pytest.raises(BadResponse):
            backpack.parse_klines(wire, "BTC", MINUTE)
