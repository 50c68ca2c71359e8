"""Prices and books: a seeded random walk per base asset, quoted by each venue with a basis and spread.

Determinism: the mid of a base asset at tick `i` is a pure function of the seed, `i` and the
`set_mid` calls made before it; ticks come from `SimClock`, which runs on wall time (`tick_ms`) or
is frozen and stepped explicitly (tests). The book of one instrument at one tick is a pure function
of the mid; market orders consume its levels until the next tick refreshes them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from array import array
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hedgectl.sim.instruments import BASES, VENUES, Instrument
from hedgectl.sim.market_source.records import Trade

START_PRICE: dict[str, Decimal] = {
    "BTC": Decimal("95000"),
    "ETH": Decimal("3500"),
    "SOL": Decimal("180"),
    "ASTER": Decimal("1.2"),
}
# Volatility per sqrt(second). ASTER, the bp-aster loop's symbol, is deliberately far above real markets
# (~500%/yr) so that a resting order 0.2% away fills within tens of seconds of simulated time. BTC, ETH and
# SOL, bootstrap's, move like real ones (~65-110%/yr): a plan reads the two venues' books concurrently, and
# on a loaded machine those reads can straddle a tick; at ASTER's pace one tick (250 ms) moves the mid by
# ~4.5 bps, enough to push the cross-venue spread past bootstrap's default 5 bps guard and refuse at random.
VOL_PER_SQRT_S: dict[str, float] = {"BTC": 1.2e-4, "ETH": 1.5e-4, "SOL": 2e-4, "ASTER": 9e-4}
# Venue basis over the common mid and full spread, both in fractions of the mid. Any two venues differ by at
# most 2 bps: well inside bootstrap's default 5 bps cross-venue guard, so every pair can be planned by default.
BASIS: dict[str, Decimal] = {
    "binance": Decimal("0"),
    "okx": Decimal("0.0001"),
    "backpack": Decimal("-0.00008"),
    "aster": Decimal("0.00012"),
}
SPREAD: dict[str, Decimal] = {
    "binance": Decimal("0.00002"),
    "okx": Decimal("0.00003"),
    "backpack": Decimal("0.0001"),
    "aster": Decimal("0.00008"),
}
LEVELS = 20
LEVEL_GAP = Decimal("0.00005")  # distance between book levels, fraction of mid
LEVEL_QTY: dict[str, Decimal] = {
    "BTC": Decimal("1.5"),
    "ETH": Decimal("25"),
    "SOL": Decimal("300"),
    "ASTER": Decimal("40000"),
}
VENUE_DEPTH: dict[str, Decimal] = {
    "binance": Decimal("1"),
    "okx": Decimal("0.8"),
    "backpack": Decimal("0.2"),
    "aster": Decimal("0.3"),
}
DEFAULT_TICK_MS = 250
_BEFORE_ALL = -(10**18)  # the starting anchor holds for every tick, history included, until a price is set
OHLC_SAMPLES = 600  # at most this many ticks read per candle (see PriceProcess.ohlc)


def round_down(value: Decimal, step: Decimal) -> Decimal:
    """Round `value` down to a multiple of `step`, keeping the step's exponent."""
    return ((value / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(step)


def round_up(value: Decimal, step: Decimal) -> Decimal:
    return ((value / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(step)


class SimClock:
    """Tick counter: live (advances every `tick_ms` of wall time) or frozen (advances on `step`)."""

    def __init__(self, tick_ms: int = DEFAULT_TICK_MS, *, frozen: bool = False) -> None:
        if tick_ms <= 0:
            raise ValueError("tick_ms must be positive")
        self.tick_ms = tick_ms
        self.frozen = frozen
        self._offset = 0
        self._start_ns = time.monotonic_ns()

    @property
    def tick(self) -> int:
        if self.frozen:
            return self._offset
        elapsed = time.monotonic_ns() - self._start_ns
        return self._offset + elapsed // (self.tick_ms * 1_000_000)

    def freeze(self) -> None:
        self._offset = self.tick
        self.frozen = True

    def unfreeze(self) -> None:
        if self.frozen:
            self._start_ns = time.monotonic_ns()
            self.frozen = False

    def step(self, ticks: int) -> None:
        if ticks < 0:
            raise ValueError("the clock only moves forward")
        self._offset += ticks

    def reset(self) -> None:
        self._offset = 0
        self._start_ns = time.monotonic_ns()

    def to_json(self) -> dict[str, object]:
        return {"tick": self.tick, "tick_ms": self.tick_ms, "frozen": self.frozen}


@dataclass(slots=True)
class _Walk:
    """Cumulative log-returns of one base asset, generated lazily and deterministically.

    Ticks before 0 are the price's history before the simulator started (what candles show): a second
    path from its own seeded generator, walking backwards from tick 0, so the future never depends on how
    much history was read."""

    rng: random.Random
    sigma: float
    history_rng: random.Random
    path: array[float] = field(default_factory=lambda: array("d", [0.0]))
    back: array[float] = field(default_factory=lambda: array("d", [0.0]))  # back[k] is tick -k

    def at(self, tick: int) -> float:
        if tick < 0:
            self._extend_back(-tick)
            return float(self.back[-tick])
        path = self.path
        while len(path) <= tick:
            path.append(path[-1] + self.rng.gauss(0.0, self.sigma))
        return float(path[tick])

    def _extend_back(self, k: int) -> None:
        back = self.back
        while len(back) <= k:
            back.append(back[-1] + self.history_rng.gauss(0.0, self.sigma))

    def span(self, first: int, last: int) -> list[float]:
        """The log values at ticks first..last (inclusive), oldest first."""
        self.at(last)
        self.at(first)
        older = list(reversed(self.back[-min(last, -1) : -first + 1])) if first < 0 else []
        return older + list(self.path[max(first, 0) : last + 1]) if last >= 0 else older


@dataclass(slots=True)
class _Anchor:
    price: Decimal
    tick: int
    log_at_tick: float


@dataclass(slots=True)
class Level:
    price: Decimal
    qty: Decimal


@dataclass(slots=True)
class Book:
    """One instrument's synthetic book at one tick; `consume` records market-order takes."""

    tick: int
    mid: Decimal
    bids: list[Level]
    asks: list[Level]

    @property
    def best_bid(self) -> Decimal:
        return self.bids[0].price

    @property
    def best_ask(self) -> Decimal:
        return self.asks[0].price


class PriceProcess:
    """Mid prices per base asset and per venue, as functions of the tick: the `synthetic` market source."""

    kind = "synthetic"
    trade_driven = False  # resting orders fill when the book crosses them (there is no trade tape)

    def __init__(self, seed: int, tick_ms: int) -> None:
        self.seed = seed
        scale = math.sqrt(tick_ms / 1000.0)
        self._walks = {
            base: _Walk(
                random.Random(f"{seed}:{base}"), VOL_PER_SQRT_S[base] * scale, random.Random(f"{seed}:{base}:history")
            )
            for base in BASES
        }
        # Per (venue, base), every anchor set so far, oldest first: a price set at tick T holds from T on, and
        # the history before T (the candles) keeps the prices it had.
        self._anchors: dict[tuple[str, str], list[_Anchor]] = {
            (venue, base): [_Anchor(START_PRICE[base] * (1 + BASIS[venue]), _BEFORE_ALL, 0.0)]
            for venue in VENUES
            for base in BASES
        }

    def _anchor(self, venue: str, base: str, tick: int) -> _Anchor:
        anchors = self._anchors[(venue, base)]
        if tick >= anchors[-1].tick:
            return anchors[-1]
        at = bisect.bisect_right([a.tick for a in anchors], tick) - 1
        return anchors[max(at, 0)]

    def mid(self, venue: str, base: str, tick: int) -> Decimal:
        """Return the venue's mid for `base` at `tick` (exact, not rounded to the tick size)."""
        anchor = self._anchor(venue, base, tick)
        drift = self._walks[base].at(tick) - anchor.log_at_tick
        # math.exp on a float is fine here: it only shapes the synthetic path; money stays Decimal.
        return anchor.price * Decimal(repr(math.exp(drift)))

    def describe(self) -> dict[str, object]:
        return {"source": self.kind, "seed": self.seed}

    def covers(self, venue: str, base: str) -> bool:
        return True

    def index(self, base: str, venue: str, tick: int) -> Decimal:
        """The common mid without any venue's basis (Binance's quotes carry none)."""
        return self.mid("binance", base, tick)

    def trades(self, inst: Instrument, after_tick: int, upto_tick: int) -> list[Trade]:
        return []

    def funding(self, venue: str, base: str, tick: int) -> None:
        return None

    def set_mid(self, base: str, price: Decimal, tick: int, venue: str | None = None) -> None:
        """Make the mid of `base` exactly `price` from `tick` on (on one venue, or on all)."""
        venues = VENUES if venue is None else (venue,)
        log_now = self._walks[base].at(tick)
        for v in venues:
            anchors = self._anchors[(v, base)]
            if anchors[-1].tick == tick:
                anchors.pop()
            anchors.append(_Anchor(price, tick, log_now))

    def ohlc(self, venue: str, base: str, first: int, last: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """The venue's mid at ticks first..last: open, high, low, close (exact, not rounded).

        A span longer than OHLC_SAMPLES ticks is sampled at an even stride (its first and last tick always
        included): candles of an hour or a day stay cheap to serve."""
        stride = max(1, (last - first + 1) // OHLC_SAMPLES)
        anchors = self._anchors[(venue, base)]
        bounds = [first] + [a.tick for a in anchors if first < a.tick <= last] + [last + 1]
        walk = self._walks[base]
        prices: list[Decimal] = []
        for start, stop in itertools.pairwise(bounds):
            anchor = self._anchor(venue, base, start)
            logs = walk.span(start, stop - 1)
            picked = logs[::stride] + ([logs[-1]] if (len(logs) - 1) % stride else [])
            low, high = min(picked), max(picked)
            for value in (picked[0], high, low, picked[-1]):
                prices.append(anchor.price * Decimal(repr(math.exp(value - anchor.log_at_tick))))
        opens, highs, lows, closes = prices[0::4], prices[1::4], prices[2::4], prices[3::4]
        return opens[0], max(highs), min(lows), closes[-1]

    def book(self, inst: Instrument, tick: int) -> Book:
        """Build the book of `inst` at `tick`: LEVELS levels a side around the venue's mid."""
        mid = self.mid(inst.venue, inst.base, tick)
        half = mid * SPREAD[inst.venue] / 2
        tick_size = inst.tick_size
        best_bid = round_down(mid - half, tick_size)
        best_ask = round_up(mid + half, tick_size)
        if best_ask <= best_bid:
            best_ask = best_bid + tick_size
        gap = max(round_up(mid * LEVEL_GAP, tick_size), tick_size)
        base_qty = LEVEL_QTY[inst.base] * VENUE_DEPTH[inst.venue]
        bids: list[Level] = []
        asks: list[Level] = []
        for i in range(LEVELS):
            # Deeper levels hold more; a cheap deterministic wobble keeps the book from looking flat.
            wobble = Decimal(7 + (i * 5 + tick) % 6) / 10
            qty = round_down(base_qty * (1 + Decimal(i) / 2) * wobble, inst.step_size) or inst.step_size
            bid_px = best_bid - gap * i
            if bid_px > 0:
                bids.append(Level(bid_px, qty))
            asks.append(Level(best_ask + gap * i, qty))
        return Book(tick=tick, mid=mid, bids=bids, asks=asks)
