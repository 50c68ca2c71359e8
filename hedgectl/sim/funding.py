"""Funding on the simulator's perpetuals: each instrument's rate and next settlement time, and the payments that
settle it into the accounts.

A synthetic market draws a seeded rate per instrument; a recorded or live one starts at the real venues' baseline
and follows the rates its source reports (the settlement times stay the simulator's). The engine owns the
`Rates` table and calls these functions from its `sync`.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from hedgectl.sim.accounts import Account, FundingState
from hedgectl.sim.books import Books
from hedgectl.sim.events import EventBus
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import PriceProcess
from hedgectl.sim.market_source.base import MarketSource
from hedgectl.sim.model import EngineEvent, EventKind, FundingPayment

# The funding rate per 8 hours a real venue charges when the premium is nil (Binance's and OKX's interest
# component, 0.01 %): what a recorded or live market pays until its own rate has been read.
BASELINE_FUNDING_8H = Decimal("0.0001")
FUNDING_QUANTUM = Decimal("1e-8")

# (venue, symbol) -> that instrument's rate and settlement times
Rates = dict[tuple[str, str], FundingState]
Instruments = dict[str, dict[str, Instrument]]


def opening_rates(seed: int, instruments: Instruments, *, trade_driven: bool, stamp_ms: int) -> Rates:
    """Every listed instrument's rate at start (seeded, or the baseline for a recorded or live market); the first
    settlement is at the next multiple of its interval after `stamp_ms`."""
    rates: Rates = {}
    for venue, per_venue in instruments.items():
        for symbol, inst in per_venue.items():
            interval = inst.funding_interval_ms
            if trade_driven:
                rate = BASELINE_FUNDING_8H * interval / (8 * 3_600_000)
            else:
                rng = random.Random(f"{seed}:funding:{venue}:{symbol}")
                rate = Decimal(rng.randint(-5, 15)) / 100_000
            rates[(venue, symbol)] = FundingState(rate, (stamp_ms // interval + 1) * interval, interval)
    return rates


def follow_source(rates: Rates, prices: PriceProcess | MarketSource, instruments: Instruments, tick: int) -> None:
    """Take the venues' current funding rates from a recorded or live market (settlement times stay ours)."""
    for (venue, symbol), state in rates.items():
        quote = prices.funding(venue, instruments[venue][symbol].base, tick)
        if quote is not None:
            state.rate = quote.rate


def settle_due(
    rates: Rates,
    accounts: dict[str, Account],
    instruments: Instruments,
    books: Books,
    bus: EventBus,
    stamp_ms: int,
) -> None:
    """Pay or charge every position whose instrument's settlement time is past, at the current mark; publish each
    payment and move the settlement on to the next interval."""
    for (venue, symbol), state in rates.items():
        if stamp_ms < state.next_ms:
            continue
        for pos in accounts[venue].symbol_positions(symbol):
            if not pos.qty:
                continue
            inst = instruments[venue][symbol]
            mark = books.mark(inst)
            # Venues book funding to 8 decimals: the balance moves by exactly what the income row says.
            amount = (-pos.qty * mark * state.rate).quantize(FUNDING_QUANTUM)
            acct = accounts[venue]
            acct.balance += amount
            payment = FundingPayment(
                venue,
                symbol,
                state.rate,
                amount,
                state.next_ms,
                payment_id=acct.new_funding_id(),
                position_qty=pos.qty,
                side=pos.side,
                balance_after=acct.balance,
            )
            acct.funding.append(payment)
            bus.publish(EngineEvent(venue, EventKind.FUNDING, funding=payment, event_ns=time.time_ns()))
        state.last_settled_ms = state.next_ms
        state.next_ms = (stamp_ms // state.interval_ms + 1) * state.interval_ms


def rates_to_json(rates: Rates) -> dict[str, Any]:
    """The rates as a saved paper account keeps them: {"venue|symbol": {"rate", "next_ms"}}."""
    return {f"{venue}|{symbol}": {"rate": str(s.rate), "next_ms": s.next_ms} for (venue, symbol), s in rates.items()}


def restore_rates(rates: Rates, raw: dict[str, Any]) -> None:
    """Take back what `rates_to_json` saved for the instruments still listed; a settlement time never moves back."""
    for key, state in raw.items():
        venue, _, symbol = key.partition("|")
        if (venue, symbol) in rates:
            rates[(venue, symbol)].rate = Decimal(state["rate"])
            rates[(venue, symbol)].next_ms = max(int(state["next_ms"]), rates[(venue, symbol)].next_ms)
