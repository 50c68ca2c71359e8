"""Realised PnL of one leg from its trades in order: each close matched with the opens it closes (first in, first out).

A cash-flow sum (sells in, buys out) is the realised PnL only when the trades open and close the whole position.
When part of the leg was opened or closed by a trade that is not in the list (a manual trade, another command, a
position taken over), the sum counts a close without its open, or an open without its close, as profit or loss.
Here that part is a `Trade` with no price: what it opens or closes is matched like any other lot, but a match with
an unknown price on either side is counted in `uncounted_qty`, never as money.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Trade:
    """A change of the leg's position: `qty` signed (+ bought, - sold), at `price` (None: not known here)."""

    qty: Decimal
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class Realised:
    gross: Decimal  # realised on the quantity matched with known prices on both sides
    uncounted_qty: Decimal  # base units closed whose open or close price is not known: not in `gross`
    open_qty: Decimal  # signed position the trades leave open (not realised)


def realise(trades: Iterable[Trade]) -> Realised:
    """Match each trade against the open lots, oldest first; what it does not close opens a new lot."""
    lots: deque[_Lot] = deque()
    gross = uncounted = ZERO
    for trade in trades:
        qty = trade.qty
        while qty and lots and _sign(lots[0].qty) != _sign(qty):
            lot = lots[0]
            side = _sign(lot.qty)
            matched = min(abs(qty), abs(lot.qty))
            if lot.price is None or trade.price is None:
                uncounted += matched
            else:
                # A long lot closed by a sell makes (exit - entry) per unit; a short lot the opposite.
                gross += (trade.price - lot.price) * matched * side
            lot.qty -= matched * side
            qty += matched * side
            if not lot.qty:
                lots.popleft()
        if qty:
            lots.append(_Lot(qty, trade.price))
    return Realised(gross=gross, uncounted_qty=uncounted, open_qty=sum((lot.qty for lot in lots), ZERO))


@dataclass(slots=True)
class _Lot:
    qty: Decimal  # signed, what is still open of it
    price: Decimal | None


def _sign(value: Decimal) -> int:
    return 1 if value > 0 else -1
