"""Profit and loss from actual fills: gross, fees and net per leg."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from hedgectl.domain.types import Fill, Side


@dataclass(frozen=True, slots=True)
class LegPnl:
    gross: Decimal
    fees: Decimal
    funding: Decimal = Decimal(0)

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


def opened_notional_per_leg(fills: Iterable[Fill]) -> Decimal:
    """The bps base of a hedge: the value of its opening fills (qty x price) averaged over its legs (venues)."""
    fills = list(fills)
    legs = {f.venue for f in fills}
    return sum((f.qty * f.price for f in fills), Decimal(0)) / len(legs) if legs else Decimal(0)


def unrealized_pnl(qty: Decimal, entry_price: Decimal, mark: Decimal) -> Decimal:
    """Unrealized PnL of a signed position at `mark`."""
    return (mark - entry_price) * qty


def bps_of(value: Decimal, notional: Decimal) -> Decimal:
    """`value` in basis points of `notional` (0 when the notional is 0)."""
    return value / notional * 10_000 if notional else Decimal(0)


@dataclass(frozen=True, slots=True)
class HoldMark:
    """An open hedge valued at the current marks: what closing it now would net, fees both ways included."""

    upnl: dict[str, Decimal]  # per venue: (mark - entry) x signed qty
    fees_paid: Decimal  # the opening fills' fees
    est_close_fees: Decimal  # per venue: |qty| x mark x the fee rate its opening fills were charged

    @property
    def net(self) -> Decimal:
        return sum(self.upnl.values(), Decimal(0)) - self.fees_paid - self.est_close_fees


def hold_mark(
    opened: dict[str, tuple[Decimal, Decimal, Decimal]], marks: dict[str, Decimal]
) -> HoldMark:
    """Value open legs at `marks`. `opened`: venue -> (signed qty, entry price, fees paid opening it)."""
    upnl: dict[str, Decimal] = {}
    paid = close = Decimal(0)
    for venue, (qty, entry, fee) in opened.items():
        mark = marks[venue]
        upnl[venue] = unrealized_pnl(qty, entry, mark)
        paid += fee
        opening_notional = abs(qty) * entry
        if opening_notional:
            close += abs(qty) * mark * fee / opening_notional
    return HoldMark(upnl=upnl, fees_paid=paid, est_close_fees=close)
