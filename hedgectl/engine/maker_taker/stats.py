"""Running statistics of the maker/taker loop, in constant memory: aggregates plus a bounded reservoir.

Nothing here grows with the run's length: volumes, fees, cash and positions are running sums; hedge
reaction times go into a fixed-size uniform reservoir sample from which p50/p99 are read.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from hedgectl.domain.pnl import REPORT_ASSET, conversion_note, sum_in_report_asset
from hedgectl.domain.pnl import cost_per_10k as cost_per_10k_of_volume
from hedgectl.domain.types import Side

RESERVOIR_SIZE = 2048
_ZERO = Decimal(0)


class Reservoir:
    """A uniform sample of at most `capacity` values out of every value ever added (Vitter's algorithm R)."""

    def __init__(self, capacity: int = RESERVOIR_SIZE, *, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.count = 0
        self._values: list[float] = []
        self._sorted: list[float] | None = None  # cached until the next add (the table reads it per event)
        self._rng = random.Random(seed)  # noqa: S311 - sampling, not security

    def add(self, value: float) -> None:
        self.count += 1
        self._sorted = None
        if len(self._values) < self.capacity:
            self._values.append(value)
            return
        slot = self._rng.randrange(self.count)
        if slot < self.capacity:
            self._values[slot] = value

    def __len__(self) -> int:
        return len(self._values)

    def percentile(self, pct: float) -> float | None:
        """The nearest-rank percentile of the sample (None when empty)."""
        if not self._values:
            return None
        if self._sorted is None:
            self._sorted = sorted(self._values)
        ordered = self._sorted
        rank = max(1, math.ceil(pct / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]


@dataclass
class VenueTally:
    """One venue's executions this run: volume, fees, signed cash flow and signed position change."""

    volume: Decimal = _ZERO  # quote units
    fees: Decimal = _ZERO  # quote units, positive = paid
    cash: Decimal = _ZERO  # + for sells, - for buys
    qty: Decimal = _ZERO  # signed base units bought minus sold
    fills: int = 0
    last_price: Decimal | None = None

    def add(self, side: Side, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        notional = qty * price
        self.volume += notional
        self.fees += fee
        self.cash += notional if side is Side.SELL else -notional
        self.qty += side.sign * qty
        self.fills += 1
        self.last_price = price

    def pnl(self, mark: Decimal | None = None) -> Decimal:
        """Cash flow plus what is still held at `mark` (the last fill price if none), minus fees."""
        price = mark if mark is not None else self.last_price
        held = self.qty * price if (self.qty and price is not None) else _ZERO
        return self.cash + held - self.fees


@dataclass
class RunningMean:
    count: int = 0
    total: float = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class StatsSnapshot:
    """What the reporter shows and the summary document holds."""

    cycles: int
    legs: int
    maker_venue: str
    taker_venue: str
    maker_volume: Decimal
    taker_volume: Decimal
    fees: dict[str, Decimal]
    funding: Decimal  # in USDT, + received, - paid (the venues' payments read so far; see funding_by_venue)
    funding_known: bool  # every read of both venues' payments succeeded
    net_pnl: Decimal  # in USDT: the two venues' PnL (fills and funding) converted as `pnl_conversion` says
    cost_per_10k: Decimal | None  # (fees + funding paid - received + taker slippage) / volume x 10,000, USDT
    maker_orders: int
    requotes: int
    hedges: int
    corrections: int
    residual_closes: int
    pauses: int
    avg_fill_s: float | None
    reaction_ms_p50: float | None
    reaction_ms_p99: float | None
    reaction_samples: int
    maker_position: Decimal
    taker_position: Decimal
    fee_assets: dict[str, str] = field(default_factory=dict)  # venue -> the asset its fees and PnL are in
    pnl_conversion: str | None = None  # how net_pnl converted them to USDT (None: nothing to convert)
    funding_by_venue: dict[str, Decimal | None] = field(default_factory=dict)  # venue's asset; None: unreadable
    slippage: Decimal = _ZERO  # what the taker's hedges paid against the maker's price (taker's asset)
    cost_per_10k_by_venue: dict[str, Decimal | None] = field(default_factory=dict)  # each venue on its volume


@dataclass
class LoopStats:
    maker_venue: str
    taker_venue: str
    maker_asset: str = REPORT_ASSET  # the settlement asset of each venue's market (Backpack: USDC)
    taker_asset: str = REPORT_ASSET
    cycles: int = 0
    legs: int = 0
    maker_orders: int = 0
    requotes: int = 0
    hedges: int = 0
    corrections: int = 0
    residual_closes: int = 0
    pauses: int = 0
    maker: VenueTally = field(default_factory=VenueTally)
    taker: VenueTally = field(default_factory=VenueTally)
    fill_time_s: RunningMean = field(default_factory=RunningMean)
    reaction_ms: Reservoir = field(default_factory=Reservoir)
    # Funding per venue in its asset (+ received), as last read for the run; a venue whose read failed is
    # in `funding_unknown` until a later read succeeds.
    funding: dict[str, Decimal] = field(default_factory=dict)
    funding_unknown: set[str] = field(default_factory=set)
    slippage: Decimal = _ZERO

    def add_slippage(self, taker_side: Side, qty: Decimal, taker_price: Decimal, maker_price: Decimal) -> Decimal:
        """A hedge of `qty` at `taker_price` against maker fills at `maker_price`: what the taker paid more
        (a buy above, a sell below the maker's price; negative when it did better). Returns that amount."""
        paid = taker_side.sign * (taker_price - maker_price) * qty
        self.slippage += paid
        return paid

    def set_funding(self, venue: str, net: Decimal | None) -> None:
        """The venue's funding for the run so far (None: it could not be read this time)."""
        if net is None:
            self.funding_unknown.add(venue)
            return
        self.funding[venue] = net
        self.funding_unknown.discard(venue)

    def tally(self, venue: str) -> VenueTally:
        return self.maker if venue == self.maker_venue else self.taker

    def snapshot(self) -> StatsSnapshot:
        volume = self.maker.volume + self.taker.volume
        maker_funding = self.funding.get(self.maker_venue, _ZERO)
        taker_funding = self.funding.get(self.taker_venue, _ZERO)
        net = sum_in_report_asset(
            ((self.maker.pnl() + maker_funding, self.maker_asset), (self.taker.pnl() + taker_funding, self.taker_asset))
        )
        funding = sum_in_report_asset(((maker_funding, self.maker_asset), (taker_funding, self.taker_asset)))
        maker_cost = self.maker.fees - maker_funding
        taker_cost = self.taker.fees - taker_funding + self.slippage
        total_cost = sum_in_report_asset(((maker_cost, self.maker_asset), (taker_cost, self.taker_asset)))
        return StatsSnapshot(
            cycles=self.cycles,
            legs=self.legs,
            maker_venue=self.maker_venue,
            taker_venue=self.taker_venue,
            maker_volume=self.maker.volume,
            taker_volume=self.taker.volume,
            fees={self.maker_venue: self.maker.fees, self.taker_venue: self.taker.fees},
            funding=funding,
            funding_known=not self.funding_unknown,
            net_pnl=net,
            cost_per_10k=_per_10k(total_cost, volume),
            maker_orders=self.maker_orders,
            requotes=self.requotes,
            hedges=self.hedges,
            corrections=self.corrections,
            residual_closes=self.residual_closes,
            pauses=self.pauses,
            avg_fill_s=self.fill_time_s.mean,
            reaction_ms_p50=self.reaction_ms.percentile(50),
            reaction_ms_p99=self.reaction_ms.percentile(99),
            reaction_samples=self.reaction_ms.count,
            maker_position=self.maker.qty,
            taker_position=self.taker.qty,
            fee_assets={self.maker_venue: self.maker_asset, self.taker_venue: self.taker_asset},
            pnl_conversion=conversion_note((self.maker_asset, self.taker_asset)),
            funding_by_venue={
                v: None if v in self.funding_unknown else self.funding.get(v, _ZERO)
                for v in (self.maker_venue, self.taker_venue)
            },
            slippage=self.slippage,
            cost_per_10k_by_venue={
                self.maker_venue: _per_10k(maker_cost, self.maker.volume),
                self.taker_venue: _per_10k(taker_cost, self.taker.volume),
            },
        )


def _per_10k(cost: Decimal, volume: Decimal) -> Decimal | None:
    figure = cost_per_10k_of_volume(cost, _ZERO, _ZERO, volume)
    return None if figure is None else figure.quantize(Decimal("0.0001"))
