"""The paper account on disk (sim/persist.py): after every commit, what a reader loads is what the engine holds."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgectl.sim import persist
from hedgectl.sim.core import Simulator
from hedgectl.sim.model import OrderRequest, OrderType, Side, SimError
from hedgectl.sim.server import start
from tests.waiting import eventually_async

VENUES = ("binance", "okx", "backpack", "aster")
SYMBOL = {"binance": "BTCUSDT", "okx": "BTC-USDT-SWAP", "backpack": "BTC_USDC_PERP", "aster": "BTCUSDT"}

# One step of a session: (what, venue index, a number that picks qty/price/order).
steps = st.lists(
    st.tuples(
        st.sampled_from(["market", "limit", "cancel", "tick", "funding", "leverage"]),
        st.integers(0, 3),
        st.integers(0, 50),
    ),
    max_size=25,
)


def _saved(path: Path) -> dict[str, Any]:
    doc = persist.read(path)
    assert doc is not None
    doc.pop("seq")
    return doc


def _step(sim: Simulator, what: str, venue: str, n: int) -> None:
    engine = sim.engine
    symbol = SYMBOL[venue]
    side = Side.BUY if n % 2 else Side.SELL
    qty = engine.instrument(venue, symbol).min_qty * (n % 5 + 2)
    try:
        if what == "market":
            engine.place_order(venue, OrderRequest(symbol, side, OrderType.MARKET, qty))
        elif what == "limit":
            mid = engine.mark_price(venue, symbol)
            away = Decimal(1) + (Decimal(n % 7) / 10_000 if side is Side.SELL else -Decimal(n % 7) / 10_000)
            price = (mid * away).quantize(engine.instrument(venue, symbol).tick_size)
            engine.place_order(venue, OrderRequest(symbol, side, OrderType.LIMIT, qty, price=price))
        elif what == "cancel":
            orders = engine.open_orders(venue)
            if orders:
                engine.cancel_order(venue, order_id=orders[n % len(orders)].order_id)
        elif what == "tick":
            engine.clock.step(n)
        elif what == "funding":
            engine.set_funding(venue, symbol, Decimal(n - 25) / 100_000, 1)  # due now: settles what is held
        else:
            engine.accounts[venue].leverage = n % 20 + 1
    except SimError:
        pass  # refused (min notional, margin): nothing changed, as a venue's rejection


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session=steps, fold_every=st.integers(2, 12))
def test_what_a_reader_loads_after_each_commit_is_what_the_engine_holds(
    tmp_path: Path, session: list[tuple[str, int, int]], fold_every: int
) -> None:
    path = tmp_path / f"account-{fold_every}-{len(session)}.json"
    for leftover in (path, persist.log_path(path)):
        leftover.unlink(missing_ok=True)
    sim = Simulator(0, frozen=True, state_path=path, durable=True)
    sim.save()  # as an earlier command left it
    for i, (what, venue, n) in enumerate(session):
        _step(sim, what, VENUES[venue], n)
        sim.engine.sync()  # as the server's tick does, before its commit
        sim.commit()
        if i % fold_every == fold_every - 1:
            sim.save()  # a snapshot folds the log in
        saved = _saved(path)
        assert saved == sim.engine.to_json(), f"after step {i} ({what})"


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_lines_before_it_kept(tmp_path: Path) -> None:
    path = tmp_path / "sim-state.json"
    sim = Simulator(0, frozen=True, state_path=path, durable=True)
    sim.save()  # as an earlier command left it
    sim.engine.place_order("binance", OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.003")))
    sim.commit()
    held = sim.engine.to_json()
    with persist.log_path(path).open("a", encoding="utf-8") as fh:
        fh.write('{"seq": 99, "accounts": {"binance": {"bal')  # power lost mid-line
    assert _saved(path) == held


def test_a_log_without_its_snapshot_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "sim-state.json"
    sim = Simulator(0, frozen=True, state_path=path, durable=True)
    sim.save()
    sim.engine.place_order("okx", OrderRequest("BTC-USDT-SWAP", Side.SELL, OrderType.MARKET, Decimal("0.003")))
    sim.commit()
    assert persist.log_path(path).exists()
    path.unlink()  # as an interrupted `sim reset` would leave it
    assert persist.read(path) is None
    assert not Simulator(0, frozen=True, state_path=path).engine.positions("okx")


def test_a_simulator_restarted_on_the_files_of_a_killed_one_holds_its_positions(tmp_path: Path) -> None:
    path = tmp_path / "sim-state.json"
    killed = Simulator(0, frozen=True, state_path=path, durable=True)
    killed.save()
    killed.engine.place_order("binance", OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.003")))
    killed.commit()  # never saved at stop: the log holds the fill
    restarted = Simulator(0, frozen=True, state_path=path, durable=True)
    assert [p.qty for p in restarted.engine.positions("binance")] == [Decimal("0.003")]
    restarted.engine.place_order("binance", OrderRequest("BTCUSDT", Side.SELL, OrderType.MARKET, Decimal("0.003")))
    restarted.commit()  # appends after the killed simulator's lines
    assert [p.qty for p in Simulator(0, state_path=path).engine.positions("binance") if p.qty] == []


def test_a_simulator_that_is_not_durable_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sim-state.json"
    sim = Simulator(0, frozen=True, state_path=path)
    sim.engine.place_order("binance", OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.003")))
    sim.commit()
    assert not path.exists()
    assert not persist.log_path(path).exists()


async def test_a_funding_payment_settled_by_the_clock_alone_is_saved_without_any_request(tmp_path: Path) -> None:
    """The server's tick saves what it changed (here a settlement due by wall time), not only requests do."""
    path = tmp_path / "sim-state.json"
    sim = Simulator(0, tick_ms=20, state_path=path, durable=True)
    running = await start(sim)
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as http:
            sim.engine.place_order("binance", OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.003")))
            due = time.time_ns() // 1_000_000 + 300  # settles on a tick, some 300 ms from now
            body = {"venue": "binance", "symbol": "BTCUSDT", "rate": "0.0001", "next_funding_ms": due}
            (await http.post("/_sim/funding", json=body)).raise_for_status()

            def payments() -> list[Any]:
                doc = persist.read(path)
                return doc["accounts"]["binance"]["funding"] if doc is not None else []

            assert payments() == []  # the request saved the order and the rate, not yet a payment
            await eventually_async(payments, timeout=10, what="the settlement on disk")
    finally:
        await running.stop()
