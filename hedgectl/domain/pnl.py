"""Profit and loss from actual fills: gross, fees and net per leg."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hedgectl.domain.types import Fill, FundingPayment, Side


@dataclass(frozen=True, slots=True)
class LegPnl:
    gross: Decimal
    fees: Decimal
    funding: Decimal = Decimal(0)
    # Base units of the leg opened or closed by trades not in its fills (a manual trade, a position taken over
    # without its price): their PnL is unknown and not in `gross` (see domain/lots.py).
    uncounted_qty: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        return self.gross - self.fees + self.funding


def leg_pnl(fills: Iterable[Fill], funding: Decimal = Decimal(0)) -> LegPnl:
    """Realized PnL of a set of fills that together open and close a position (cash flow of the fills).

    Sells bring in qty x price, buys pay it out; when the fills net to zero quantity the cash flow is the
    realized gross PnL. Fees are taken in the quote asset.
    """
    gross = Decimal(0)
    fees = Decimal(0)
    for fill in fills:
        cash = fill.qty * fill.price
        gross += cash if fill.side is Side.SELL else -cash
        fees += fill.fee
    return LegPnl(gross=gross, fees=fees, funding=funding)


def cost_per_10k(fees: Decimal, funding: Decimal, slippage: Decimal, volume: Decimal) -> Decimal | None:
    """What trading `volume` cost per 10,000 of it: (fees + funding paid - funding received + slippage paid)
    / volume x 10,000. `funding` is signed as received (+ received, - paid); `slippage` is what the taker paid
    against the maker's price (negative when it got a better price). None when there was no volume."""
    if not volume:
        return None
    return (fees - funding + slippage) / volume * 10_000


def opened_notional_per_leg(fills: Iterable[Fill]) -> Decimal:
    """The bps base of a hedge: the value of its opening fills (qty x price) averaged over its legs (venues)."""
    fills = list(fills)
    legs = {f.venue for f in fills}
    return sum((f.qty * f.price for f in fills), Decimal(0)) / len(legs) if legs else Decimal(0)


# Sums over venues that settle in different stablecoins (Backpack: USDC, the others: USDT) are reported in USDT,
# converting at these rates; wherever such a sum is shown, `conversion_note` says so. USDC is counted at par:
# none of the venues' APIs used here quotes USDC/USDT, and a rate that cannot be read is stated, not hidden.
REPORT_ASSET = "USDT"
USDT_PER_UNIT: Mapping[str, Decimal] = {"USDT": Decimal(1), "USDC": Decimal(1)}


def in_report_asset(amount: Decimal, asset: str) -> Decimal:
    """`amount` of `asset` in USDT at the stated rate (an unknown asset is an error, never silently 1:1)."""
    rate = USDT_PER_UNIT.get(asset)
    if rate is None:
        raise ValueError(f"no stated rate from {asset} to {REPORT_ASSET}")
    return amount * rate


def sum_in_report_asset(amounts: Iterable[tuple[Decimal, str]]) -> Decimal:
    """Sum (amount, asset) pairs in USDT at the stated rates."""
    return sum((in_report_asset(amount, asset) for amount, asset in amounts), Decimal(0))


def conversion_note(assets: Iterable[str]) -> str | None:
    """How a sum over these assets was converted ("USDC counted at 1 USDC = 1 USDT"), None if nothing was."""
    others = sorted({a for a in assets if a != REPORT_ASSET})
    if not others:
        return None
    return "; ".join(
        f"{a} converted at 1 {a} = {USDT_PER_UNIT[a]} {REPORT_ASSET}" for a in others if a in USDT_PER_UNIT
    )


def net_with_later_funding(
    recorded: Decimal | None, ended_at: datetime | None, payments: Iterable[FundingPayment]
) -> tuple[Decimal | None, dict[str, Decimal]]:
    """A run's net PnL counting every funding payment attributed to it: the net it recorded when it ended plus
    the payments that settled after that (a position it left open, read later), in USDT at the stated rates;
    and those later payments per asset. None when it recorded no net, or a later payment's asset has no rate."""
    later: dict[str, Decimal] = {}
    for p in payments:
        if ended_at is not None and p.at > ended_at:
            later[p.asset] = later.get(p.asset, Decimal(0)) + p.amount
    if recorded is None:
        return None, later
    try:
        return recorded + sum_in_report_asset((amount, asset) for asset, amount in later.items()), later
    except ValueError:  # no figure rather than a wrong one
        return None, later


def unrealized_pnl(qty: Decimal, entry_price: Decimal, mark: Decimal) -> Decimal:
    """Unrealized PnL of a signed position at `mark`."""
    return (mark - entry_price) * qty


def bps_of(value: Decimal, notional: Decimal) -> Decimal:
    """`value` in basis points of `notional` (0 when the notional is 0)."""
    return value / notional * 10_000 if notional else Decimal(0)


@dataclass(frozen=True, slots=True)
class HoldMark:
    """An open hedge valued at the current marks: what closing it now would net, fees both ways included.

    `upnl` is per venue in its own asset (`assets`); the fees and `net` are in USDT (see `conversion`)."""

    upnl: dict[str, Decimal]  # per venue: (mark - entry) x signed qty
    fees_paid: Decimal  # the opening fills' fees
    # per venue: |qty| x mark x the close's fee rate (the venue's taker rate: the close is a market order),
    # else the rate its opening fills were charged
    est_close_fees: Decimal
    assets: dict[str, str] = field(default_factory=dict)  # venue -> its settlement asset (USDT when absent)

    @property
    def net(self) -> Decimal:
        upnl = sum_in_report_asset((p, self.assets.get(v, REPORT_ASSET)) for v, p in self.upnl.items())
        return upnl - self.fees_paid - self.est_close_fees

    @property
    def conversion(self) -> str | None:
        return conversion_note(self.assets.values())


def hold_mark(
    opened: dict[str, tuple[Decimal, Decimal, Decimal]],
    marks: dict[str, Decimal],
    assets: dict[str, str] | None = None,
    close_rates: dict[str, Decimal] | None = None,
) -> HoldMark:
    """Value open legs at `marks`. `opened`: venue -> (signed qty, entry price, fees paid opening it), each in
    the venue's asset (`assets`, USDT when absent); fees are summed in USDT. `close_rates`: the fee rate the
    close will pay per venue (a market close pays the taker rate, whatever a maker entry paid); a venue not in
    it is estimated at the rate its opening fills were charged."""
    assets = assets or {}
    close_rates = close_rates or {}
    upnl: dict[str, Decimal] = {}
    paid = close = Decimal(0)
    for venue, (qty, entry, fee) in opened.items():
        asset = assets.get(venue, REPORT_ASSET)
        mark = marks[venue]
        upnl[venue] = unrealized_pnl(qty, entry, mark)
        paid += in_report_asset(fee, asset)
        opening_notional = abs(qty) * entry
        if venue in close_rates:
            close += in_report_asset(abs(qty) * mark * close_rates[venue], asset)
        elif opening_notional:
            close += in_report_asset(abs(qty) * mark * fee / opening_notional, asset)
    return HoldMark(upnl=upnl, fees_paid=paid, est_close_fees=close, assets=dict(assets))
