"""Candles (klines) as every venue parser reads them: one interval table, one row check.

Every venue names its candle intervals with the same few strings (OKX upper-cases hours and days); a row is
open/high/low/close as numbers or numeric strings, and must make sense as a candle (prices positive, the
high the highest and the low the lowest of the four), or it is a broken reply, never a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hedgectl.domain.types import Candle
from hedgectl.errors import UsageError
from hedgectl.venues.kit.wire import WireReader

_MINUTE = timedelta(minutes=1)
INTERVALS: dict[timedelta, str] = {
    _MINUTE: "1m", 3 * _MINUTE: "3m", 5 * _MINUTE: "5m", 15 * _MINUTE: "15m", 30 * _MINUTE: "30m",
    timedelta(hours=1): "1h", timedelta(hours=2): "2h", timedelta(hours=4): "4h", timedelta(days=1): "1d",
}  # fmt: skip
MAX_CANDLES = 1000  # the most one fetch_candles asks for (OKX pages by 300, Backpack's reply is capped)


def interval_name(venue: str, interval: timedelta, *, upper_hours: bool = False) -> str:
    """The venue's name for `interval` ("1m", "1h"; OKX: "1H"); UsageError for one no venue offers."""
    name = INTERVALS.get(interval)
    if name is None:
        offered = ", ".join(INTERVALS.values())
        raise UsageError(f"{venue}: no candles of {interval}; intervals offered: {offered}")
    return name.upper() if upper_hours and name[-1] in "hd" else name


def check_limit(venue: str, limit: int) -> int:
    if not 1 <= limit <= MAX_CANDLES:
        raise UsageError(f"{venue}: candles are read 1 to {MAX_CANDLES} at a time, not {limit}")
    return limit


def candle(
    r: WireReader,
    symbol: str,
    open_at: datetime,
    interval: timedelta,
    ohlc: Mapping[str, Any],
    what: str,
    volume: Any = None,
) -> Candle:
    """One candle from its four prices (`ohlc` keyed open/high/low/close, numbers or strings), checked."""
    o, h, low, c = (r.number(ohlc.get(k), f"{what}.{k}") for k in ("open", "high", "low", "close"))
    if min(o, h, low, c) <= 0:
        raise r.bad(f"{what}: a price is not positive")
    if h < max(o, c, low) or low > min(o, c, h):
        raise r.bad(f"{what}: high {h} / low {low} do not bound open {o} and close {c}")
    vol = None if volume is None or volume == "" else r.number(volume, f"{what}.volume")
    if vol is not None and vol < 0:
        raise r.bad(f"{what}.volume is negative")
    return Candle(
        venue=r.venue, symbol=symbol, open_at=open_at, interval=interval, open=o, high=h, low=low, close=c, volume=vol
    )
