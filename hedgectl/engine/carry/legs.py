"""Each leg of a carry as its journal knows it: the trades that made the position, for its realised PnL.

The carry's own fills (over its run chain) are most of it, but not all: a pair taken over with `--adopt` was
opened by trades the carry never made, and an outside trade (a manual close, another command, an ADL) changes a
leg without a fill of the carry's. Both are journaled by the carry when it learns of them, as trades with no
price (`domain/lots.py` keeps them out of the money and counts their quantity as unknown):

- `carry.adopt` (`entries`: per venue the size held and the venue's entry price): the position the carry took
  over, priced at the venue's entry price when the venue gives one;
- `carry.outside` (`venue`, `qty`: the signed change, `after_fills`: how many of the carry's fills on that venue
  the journal held when it was seen): a change of a venue's position that no order of the carry's explains. It
  is journaled only while every order of the carry on that venue is final and its fills journaled, so a fill
  learnt late is never mistaken for an outside trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hedgectl.domain.lots import Trade
from hedgectl.domain.types import Fill, OrderStatus
from hedgectl.journal import Journal

ADOPT = "carry.adopt"
OUTSIDE = "carry.outside"
ZERO = Decimal(0)


@dataclass
class LegBook:
    """One venue's leg: the carry's fills, and the priced or unpriced trades it did not make, in order."""

    venue: str
    fills: list[Fill] = field(default_factory=list)
    adopted: list[Trade] = field(default_factory=list)
    outside: list[tuple[int, Trade]] = field(default_factory=list)  # (after this many fills, trade)

    @property
    def qty(self) -> Decimal:
        """The signed position these trades add up to."""
        trades = (*self.adopted, *(t for _, t in self.outside))
        return sum((f.qty * f.side.sign for f in self.fills), ZERO) + sum((t.qty for t in trades), ZERO)

    def trades(self) -> list[Trade]:
        """Every trade in the order it happened (an outside trade before the fills learnt after it)."""
        out = list(self.adopted)
        pending = sorted(self.outside, key=lambda item: item[0])
        for n, fill in enumerate(self.fills):
            while pending and pending[0][0] <= n:
                out.append(pending.pop(0)[1])
            out.append(Trade(fill.qty * fill.side.sign, fill.price))
        out.extend(t for _, t in pending)
        return out


def leg_books(journal: Journal, runs: Sequence[str], venues: Sequence[str], symbol: str) -> dict[str, LegBook]:
    """The legs of the carry whose run chain is `runs` (oldest first), as its journal holds them."""
    books = {v: LegBook(v) for v in venues}
    for run in runs:
        for fill in journal.run_fills(run):
            if fill.symbol == symbol and fill.venue in books:
                books[fill.venue].fills.append(fill)
    for run in runs:
        for row in journal.events(run):
            if row["kind"] in (ADOPT, OUTSIDE):
                _apply(books, row["kind"], row["data"])
    return books


def refresh_fills(journal: Journal, runs: Sequence[str], books: dict[str, LegBook], symbol: str) -> None:
    """Read the carry's fills again (a re-hedge adds some); the trades it did not make stay as they are."""
    for book in books.values():
        book.fills = [f for run in runs for f in journal.run_fills(run) if f.symbol == symbol and f.venue == book.venue]


def _apply(books: dict[str, LegBook], kind: str, data: dict[str, Any]) -> None:
    try:
        if kind == ADOPT:
            for venue, entry in (data.get("entries") or {}).items():
                if venue in books:
                    price = entry.get("entry_price")
                    trade = Trade(Decimal(str(entry["qty"])), Decimal(str(price)) if price else None)
                    books[venue].adopted.append(trade)
        elif data.get("venue") in books:
            trade = Trade(Decimal(str(data["qty"])), None)
            books[data["venue"]].outside.append((int(data["after_fills"]), trade))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return  # an event this version cannot read: its trade is left out, and the end says what is unmatched


def orders_settled(journal: Journal, runs: Sequence[str], book: LegBook, symbol: str) -> bool:
    """True when every order of the carry on the book's venue is final with all its fills journaled."""
    for run in runs:
        for row in journal.orders(run):
            if row.venue != book.venue or row.symbol != symbol or row.state == "failed":
                continue
            if row.state != "acked" or row.status is None or not OrderStatus(row.status).is_final:
                return False
            journaled = sum((f.qty for f in book.fills if f.order_id == row.venue_order_id), ZERO)
            if journaled != Decimal(row.filled_qty or 0):
                return False
    return True
