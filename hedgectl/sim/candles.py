"""Candles of a venue's mid price, as the dialects' kline routes serve them.

Time is the simulator's: tick i is at `engine.epoch_ms + i * tick_ms` (with a frozen clock it moves only when
the clock is stepped). Candles open on multiples of their interval, like the venues'; the newest is the one
the current tick is in, still forming (its close is the current mid). Before tick 0 the price has a history
of its own (see market._Walk), so a kline read right after start already shows the venue's volatility.
`POST /_sim/price` moves the price from now on: the candle it falls in shows the jump, older ones do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedgectl.sim.engine import Engine
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import LEVEL_QTY, round_down

MAX_CANDLES = 1500  # the most any dialect serves in one reply
# The most ticks one reply's candles may span (a day at 250 ms ticks): every tick of history is generated
# once, so longer intervals get fewer candles rather than a reply that takes seconds.
MAX_SPAN_TICKS = 400_000


@dataclass(frozen=True, slots=True)
class SimCandle:
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # synthetic: the base asset's book level size per minute of the interval
    trades: int

    @property
    def quote_volume(self) -> Decimal:
        return self.volume * self.close


def now_ms(engine: Engine) -> int:
    """The simulator's time now (the current tick's)."""
    engine.sync()
    return engine.epoch_ms + engine.clock.tick * engine.clock.tick_ms


def candles(
    engine: Engine,
    inst: Instrument,
    interval_ms: int,
    *,
    limit: int,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[SimCandle]:
    """Up to `limit` candles, oldest first: from the one containing `start_ms` if given (the first `limit`),
    else the latest `limit` up to the one containing `end_ms` (default: now). None after now, none older than
    MAX_SPAN_TICKS before now."""
    now = now_ms(engine)
    current = now // interval_ms * interval_ms
    oldest = now - MAX_SPAN_TICKS * engine.clock.tick_ms  # no history is served from before this
    last_open = current if end_ms is None else min(current, end_ms // interval_ms * interval_ms)
    limit = max(0, min(limit, MAX_CANDLES, max(1, MAX_SPAN_TICKS * engine.clock.tick_ms // interval_ms)))
    if start_ms is not None:
        first_open = max(start_ms, oldest) // interval_ms * interval_ms
        opens = range(first_open, min(last_open, first_open + (limit - 1) * interval_ms) + 1, interval_ms)
    else:
        opens = range(last_open - (limit - 1) * interval_ms, last_open + 1, interval_ms)
    return [_candle(engine, inst, o, interval_ms, now) for o in opens if oldest - interval_ms < o <= last_open]


def _candle(engine: Engine, inst: Instrument, open_ms: int, interval_ms: int, now: int) -> SimCandle:
    tick_ms = engine.clock.tick_ms
    first = _tick_at(engine, open_ms)
    last = min(_tick_at(engine, open_ms + interval_ms - 1), engine.clock.tick)
    o, h, low, c = engine.prices.ohlc(inst.venue, inst.base, first, max(first, last))
    minutes = Decimal(interval_ms) / 60_000
    if open_ms + interval_ms > now:  # still forming: the part of the interval that has passed
        minutes = Decimal(max(0, now - open_ms) + tick_ms) / 60_000
    volume = round_down(LEVEL_QTY[inst.base] * minutes, inst.step_size)
    return SimCandle(
        open_ms=open_ms,
        open=round_down(o, inst.tick_size),
        high=round_down(h, inst.tick_size),
        low=round_down(low, inst.tick_size),
        close=round_down(c, inst.tick_size),
        volume=volume,
        trades=int(minutes * 12),
    )


def _tick_at(engine: Engine, at_ms: int) -> int:
    return (at_ms - engine.epoch_ms) // engine.clock.tick_ms
