"""What a supervised order stream has already told its consumer, so nothing is told twice or out of order.

Pure bookkeeping (no I/O, no clock): the stream supervisor offers it every candidate event, whichever
source produced it (WebSocket, reconciliation, polling), and emits only those it accepts. An event is
accepted when its fill's trade id is new for that order AND it brings progress for the order: a larger
cumulative filled quantity, or the same quantity with a later status (new < partially filled < final).
Memory is bounded: trade ids and orders are remembered in LRU order up to `limit` each.

It also turns what REST shows after an outage into candidate events: missed fills one by one with a
growing cumulative quantity (capped by the order's current state, so a fill already counted by an earlier
event is not counted again), then each order's current state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import Fill, Order, OrderStatus
from hedgectl.venues.streams.types import EventSource, OrderEvent

_FINAL_RANK = 2


def _rank(status: OrderStatus) -> int:
    if status.is_final:
        return _FINAL_RANK
    return 1 if status is OrderStatus.PARTIALLY_FILLED else 0


def _progress(filled: Decimal, rank: int, seen_filled: Decimal, seen_rank: int) -> bool:
    return filled > seen_filled or (filled == seen_filled and rank > seen_rank)


def brings_progress(candidate: Order, current: Order) -> bool:
    """The one dedupe rule: `candidate` says more about the same order than `current` - a larger cumulative
    filled quantity, or the same quantity with a later status (new < partially filled < final)."""
    if candidate.order_id != current.order_id:
        return False
    return _progress(candidate.filled_qty, _rank(candidate.status), current.filled_qty, _rank(current.status))


@dataclass(frozen=True, slots=True)
class _Seen:
    symbol: str
    filled: Decimal
    rank: int

    @property
    def open(self) -> bool:
        return self.rank < _FINAL_RANK


class OrderLedger:
    """Per-order progress and trade ids already delivered, plus the time REST fills are read from."""

    def __init__(self, *, symbol: str | None, horizon: datetime, lookback: timedelta, limit: int) -> None:
        self._symbol = symbol
        self._lookback = lookback
        self._limit = limit
        self._orders: OrderedDict[str, _Seen] = OrderedDict()
        self._trades: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.horizon = horizon  # fills at or after this time are read by the next REST pass

    @property
    def remembered(self) -> tuple[int, int]:
        """How many (trade ids, orders) are remembered (each bounded by `limit`)."""
        return len(self._trades), len(self._orders)

    def wanted(self, order: Order) -> bool:
        return self._symbol is None or order.symbol == self._symbol

    def filled(self, order_id: str) -> Decimal:
        """The cumulative filled quantity already delivered for an order (0 if unknown)."""
        seen = self._orders.get(order_id)
        return seen.filled if seen is not None else Decimal(0)

    def symbols(self, extra: Iterable[str] = ()) -> set[str]:
        """The symbols whose fills a REST pass reads: ours, or every one we have seen an order of."""
        if self._symbol is not None:
            return {self._symbol}
        return {seen.symbol for seen in self._orders.values()} | set(extra)

    def open_orders(self) -> dict[str, str]:
        """Order id -> symbol of every remembered order not yet seen final."""
        return {
            oid: seen.symbol for oid, seen in self._orders.items() if seen.open and self._symbol in (None, seen.symbol)
        }

    def accept(self, event: OrderEvent) -> bool:
        """Record `event` and return True if the consumer should get it; False for a repeat or no progress."""
        order = event.order
        if not self.wanted(order):
            return False
        if event.fill is not None:
            key = (order.order_id, event.fill.trade_id)
            if key in self._trades:
                return False
            self._remember(self._trades, key, None)
        seen = self._orders.get(order.order_id)
        rank = _rank(order.status)
        if seen is not None:
            if not _progress(order.filled_qty, rank, seen.filled, seen.rank):
                return False
            self._remember(
                self._orders,
                order.order_id,
                _Seen(order.symbol, max(seen.filled, order.filled_qty), max(rank, seen.rank)),
            )
        else:
            self._remember(self._orders, order.order_id, _Seen(order.symbol, order.filled_qty, rank))
        if event.fill is not None and event.fill.at is not None:
            self.advance(event.fill.at)
        return True

    def advance(self, seen_up_to: datetime) -> None:
        """Everything before `seen_up_to` is known: later REST passes read fills from a lookback before it."""
        self.horizon = max(self.horizon, seen_up_to - self._lookback)

    def unseen(self, fills: Iterable[Fill], default_at: datetime) -> list[Fill]:
        """The fills not yet delivered, oldest first."""
        return sorted(
            (f for f in fills if (f.order_id, f.trade_id) not in self._trades and self._symbol in (None, f.symbol)),
            key=lambda f: (f.at or default_at, f.trade_id),
        )

    def stale(self, snapshots: dict[str, Order], new_fills: list[Fill]) -> dict[str, str]:
        """Order id -> symbol of orders to read one by one: closed ones the open list no longer shows, and
        ones it shows older than their new fills."""
        totals: dict[str, Decimal] = {}
        symbols: dict[str, str] = {}
        for fill in new_fills:
            totals[fill.order_id] = totals.get(fill.order_id, Decimal(0)) + fill.qty
            symbols[fill.order_id] = fill.symbol
        stale = {
            order_id: symbols[order_id]
            for order_id, total in totals.items()
            if order_id not in snapshots or snapshots[order_id].filled_qty < self.filled(order_id) + total
        }
        for order_id, symbol in self.open_orders().items():
            if order_id not in snapshots:
                stale.setdefault(order_id, symbol)
        return stale

    def replay(
        self, snapshots: dict[str, Order], new_fills: list[Fill], source: EventSource, received_ns: int
    ) -> list[OrderEvent]:
        """Candidate events for what REST shows: missed fills with a growing cumulative, then order states.

        A fill whose order could not be read is left out (it stays unseen and is retried next pass).
        """
        events: list[OrderEvent] = []
        cumulative: dict[str, Decimal] = {}
        for fill in new_fills:
            latest = snapshots.get(fill.order_id)
            if latest is None:
                continue
            done = cumulative.get(fill.order_id, self.filled(fill.order_id))
            upto = min(done + fill.qty, latest.filled_qty)
            order = latest
            if upto < latest.filled_qty:
                order = replace(latest, status=OrderStatus.PARTIALLY_FILLED, filled_qty=upto, avg_price=None, fee=None)
            events.append(OrderEvent(order=order, fill=fill, source=source, received_ns=received_ns))
            cumulative[fill.order_id] = max(done, upto)
        events.extend(
            OrderEvent(order=o, fill=None, source=source, received_ns=received_ns) for o in snapshots.values()
        )
        return events

    def _remember(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._limit:
            table.popitem(last=False)
