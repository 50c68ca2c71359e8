"""A run's figures from its journal rows: volume, fees, funding, slippage, net PnL and cost per 10k.

`history` (a line per run, totals over a period) and `report` (its runs table, a run's totals and the sums over
runs) both take them from here, so the two never show different figures for the same runs. The rules:

- volume: every recorded fill's qty x price, whatever the run's end (an aborted run traded too), in USDT;
- fees: per asset as the fills recorded them; funding: the run's `funding` rows per asset (+ received, - paid);
- slippage: what the hedges paid against the maker's price, from the `loop.hedge` events the run journaled (a
  loop's, and a maker-first bootstrap's, whose hedges are the loop's); None when it journaled no hedge;
- net: the net PnL the run recorded when it ended plus the funding attributed to it that settled after that (a
  position it left open, read later), as `domain.pnl.net_with_later_funding` counts it (None: it recorded none);
- cost per 10k: (fees + funding paid - funding received + slippage) / volume x 10,000 (`domain.pnl`), to 4
  places; None without volume, or when an amount is in an asset with no stated USDT rate (no figure rather than a
  wrong one).

Each venue's amounts are in its settlement asset: its fills' fee asset where that has a stated rate, else USDT; a
fee recorded without an asset is in it too. Sums in USDT use the stated rates of `domain.pnl` (USDC at par).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hedgectl.domain.pnl import REPORT_ASSET, USDT_PER_UNIT, cost_per_10k, net_with_later_funding

if TYPE_CHECKING:
    from hedgectl.domain.types import FundingPayment
    from hedgectl.journal.repository import Journal, RunRow

_ZERO = Decimal(0)
PLACES = Decimal("0.0001")  # every cost per 10k hedgectl prints or writes: the loop's, history's, the report's
HEDGE_EVENT = "loop.hedge"


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run's figures (or the sum of several runs'), each amount in USDT unless it says per asset."""

    volume: Decimal | None  # None: no fill recorded
    fees: dict[str, Decimal]  # per asset, as recorded
    funding: dict[str, Decimal]  # per asset, + received
    slippage: Decimal | None  # None: no hedge journaled
    net: Decimal | None
    fees_usdt: Decimal
    funding_usdt: Decimal
    unpriced: frozenset[str] = frozenset()  # assets without a stated rate, left out of the USDT sums
    funding_after_end: dict[str, Decimal] = field(default_factory=dict)  # per asset, counted in `net`

    @property
    def cost_per_10k(self) -> Decimal | None:
        if self.unpriced or not self.volume:
            return None
        return per_10k(self.fees_usdt, self.funding_usdt, self.slippage or _ZERO, self.volume)


def per_10k(fees: Decimal, funding: Decimal, slippage: Decimal, volume: Decimal) -> Decimal | None:
    """`domain.pnl.cost_per_10k` to the places every figure of it has."""
    figure = cost_per_10k(fees, funding, slippage, volume)
    return None if figure is None else figure.quantize(PLACES)


def venue_assets(fills: Iterable[Mapping[str, Any]], payments: Iterable[FundingPayment]) -> dict[str, str]:
    """Each venue's settlement asset: its fills' fee asset where that is one with a stated rate, else USDT."""
    fills, payments = list(fills), list(payments)
    assets: dict[str, str] = {}
    for row in fills:
        if row["fee_asset"] in USDT_PER_UNIT:
            assets.setdefault(row["venue"], row["fee_asset"])
    for payment in payments:
        if payment.asset in USDT_PER_UNIT:
            assets.setdefault(payment.venue, payment.asset)
    for row in fills:
        assets.setdefault(row["venue"], REPORT_ASSET)
    return assets


def hedge_slippage(events: Iterable[Mapping[str, Any]]) -> Decimal | None:
    """What the run's hedges paid against the maker's price (a better price counts negative); None: no hedge."""
    hedges = [e["data"] for e in events if e["kind"] == HEDGE_EVENT]
    if not hedges:
        return None
    return sum((Decimal(str(h["slippage"])) for h in hedges if h.get("slippage") is not None), _ZERO)


def figures_of(
    run: RunRow,
    fills: Iterable[Mapping[str, Any]],
    payments: Iterable[FundingPayment],
    events: Iterable[Mapping[str, Any]],
) -> RunFigures:
    """A run's figures from its rows: `Journal.fills`, `Journal.run_funding` and `Journal.events` of it."""
    fills, payments = list(fills), list(payments)
    assets = venue_assets(fills, payments)
    unpriced: set[str] = set()

    def usdt(amount: Decimal, asset: str) -> Decimal:
        rate = USDT_PER_UNIT.get(asset)
        if rate is None:
            unpriced.add(asset)
            return _ZERO
        return amount * rate

    fees: dict[str, Decimal] = {}
    volume = fees_usdt = funding_usdt = _ZERO
    for row in fills:
        asset = assets.get(row["venue"], REPORT_ASSET)
        volume += usdt(Decimal(row["qty"]) * Decimal(row["price"]), asset)
        fee = Decimal(row["fee"])
        fees[row["fee_asset"]] = fees.get(row["fee_asset"], _ZERO) + fee
        fees_usdt += usdt(fee, row["fee_asset"] or asset)
    funding: dict[str, Decimal] = {}
    for payment in payments:
        funding[payment.asset] = funding.get(payment.asset, _ZERO) + payment.amount
        funding_usdt += usdt(payment.amount, payment.asset)
    ended = datetime.fromisoformat(run.ended_at) if run.ended_at else None
    net, later = net_with_later_funding(
        None if run.net_pnl is None else Decimal(run.net_pnl),
        ended if ended is None or ended.tzinfo is not None else ended.replace(tzinfo=UTC),
        payments,
    )
    return RunFigures(
        volume=volume if fills else None,
        fees=fees,
        funding=funding,
        slippage=hedge_slippage(events),
        net=net,
        fees_usdt=fees_usdt,
        funding_usdt=funding_usdt,
        unpriced=frozenset(unpriced),
        funding_after_end=later,
    )


def run_figures(journal: Journal, run: RunRow) -> RunFigures:
    """Read one run's rows and take its figures."""
    return figures_of(run, journal.fills(run.id), journal.run_funding(run.id), journal.events(run.id))


def total(figures: Iterable[RunFigures]) -> RunFigures:
    """The figures of several runs together: sums, per asset where per asset (a run without a figure adds none)."""
    figures = list(figures)

    def per_asset(parts: Iterable[Mapping[str, Decimal]]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for part in parts:
            for asset, amount in part.items():
                out[asset] = out.get(asset, _ZERO) + amount
        return out

    def known(values: Iterable[Decimal | None]) -> Decimal | None:
        present = [v for v in values if v is not None]
        return sum(present, _ZERO) if present else None

    return RunFigures(
        volume=sum((f.volume for f in figures if f.volume is not None), _ZERO),
        fees=per_asset(f.fees for f in figures),
        funding=per_asset(f.funding for f in figures),
        slippage=known(f.slippage for f in figures),
        net=sum((f.net for f in figures if f.net is not None), _ZERO),
        fees_usdt=sum((f.fees_usdt for f in figures), _ZERO),
        funding_usdt=sum((f.funding_usdt for f in figures), _ZERO),
        unpriced=frozenset().union(*(f.unpriced for f in figures)),
        funding_after_end=per_asset(f.funding_after_end for f in figures),
    )
