"""The matching engine on its own: rules, matching, positions, determinism, persistence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedgectl.sim.engine import Engine
from hedgectl.sim.model import OrderRequest, OrderStatus, OrderType, Reason, Side, SimError, TimeInForce

D = Decimal


def market(symbol: str, side: Side, qty: str, **kw: object) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, D(qty), **kw)  # type: ignore[arg-type]


def limit(symbol: str, side: Side, qty: str, price: str, **kw: object) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.LIMIT, D(qty), D(price), **kw)  # type: ignore[arg-type]


@pytest.fixture
def engine() -> Engine:
    return Engine(seed=3, frozen=True)


def test_every_venue_lists_the_four_perps_with_real_names(engine: Engine) -> None:
    assert set(engine.instruments["binance"]) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "ASTERUSDT"}
    assert set(engine.instruments["aster"]) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "ASTERUSDT"}
    assert set(engine.instruments["okx"]) == {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP", "ASTER-USDT-SWAP"}
    assert set(engine.instruments["backpack"]) == {"BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP", "ASTER_USDC_PERP"}
    okx_btc = engine.instrument("okx", "BTC-USDT-SWAP")
    assert (okx_btc.contract_value, okx_btc.venue_step) == (D("0.01"), D("0.01"))
    assert engine.instrument("binance", "BTCUSDT").min_notional == 100
    assert engine.instrument("backpack", "BTC_USDC_PERP").min_notional == 0
    assert engine.funding_state("backpack", "BTC_USDC_PERP").interval_ms == 3_600_000
    assert engine.funding_state("okx", "BTC-USDT-SWAP").interval_ms == 8 * 3_600_000


def test_venues_quote_with_their_own_basis_and_spread(engine: Engine) -> None:
    mids = {
        v: engine.book(v, s).mid
        for v, s in (
            ("binance", "BTCUSDT"),
            ("okx", "BTC-USDT-SWAP"),
            ("backpack", "BTC_USDC_PERP"),
            ("aster", "BTCUSDT"),
        )
    }
    assert len(set(mids.values())) == 4
    assert all(abs(m / mids["binance"] - 1) < D("0.001") for m in mids.values())
    for venue, symbol in (("binance", "BTCUSDT"), ("backpack", "BTC_USDC_PERP")):
        book = engine.book(venue, symbol)
        assert book.best_bid < book.mid < book.best_ask
        assert len(book.bids) == len(book.asks) == 20
    spread = {
        v: engine.book(v, s).best_ask - engine.book(v, s).best_bid
        for v, s in (("binance", "BTCUSDT"), ("backpack", "BTC_USDC_PERP"))
    }
    assert spread["backpack"] > spread["binance"]


def test_a_big_market_order_walks_the_book(engine: Engine) -> None:
    book = engine.book("binance", "BTCUSDT")
    order = engine.place_order("binance", market("BTCUSDT", Side.BUY, "1.5"))
    assert order.status is OrderStatus.FILLED
    assert order.avg_price > book.best_ask
    fills = engine.fills("binance", "BTCUSDT")
    assert [f.price for f in fills] == sorted(f.price for f in fills)
    assert len(fills) > 1
    # The consumed levels stay consumed for the rest of the tick.
    assert engine.book("binance", "BTCUSDT").best_ask == book.best_ask
    again = engine.place_order("binance", market("BTCUSDT", Side.BUY, "0.1"))
    assert again.avg_price > book.best_ask


def test_positions_track_signed_qty_entry_and_realized_pnl(engine: Engine) -> None:
    engine.set_price("ETH", D("3000"), "backpack")
    engine.place_order("backpack", limit("ETH_USDC_PERP", Side.BUY, "1", "3000"))
    engine.force_fill("backpack", all_orders=True)
    engine.place_order("backpack", limit("ETH_USDC_PERP", Side.BUY, "1", "2990"))
    engine.force_fill("backpack", all_orders=True)
    pos = engine.position("backpack", "ETH_USDC_PERP")
    assert (pos.qty, pos.entry_price) == (D("2"), D("2995"))
    engine.place_order("backpack", limit("ETH_USDC_PERP", Side.SELL, "3", "3010"))
    [fill] = engine.force_fill("backpack", all_orders=True)
    assert fill.realized_pnl == D("2") * (D("3010") - D("2995"))
    assert (pos.qty, pos.entry_price) == (D("-1"), D("3010"))


def test_rules_reject_with_reasons(engine: Engine) -> None:
    ask = str(engine.book("binance", "BTCUSDT").best_ask)
    cases = [
        (market("BTCUSDT", Side.BUY, "0"), Reason.QTY_NOT_POSITIVE),
        (market("BTCUSDT", Side.BUY, "0.0015"), Reason.QTY_STEP),
        (market("BTCUSDT", Side.BUY, "5000"), Reason.QTY_ABOVE_MAX),
        (limit("BTCUSDT", Side.BUY, "0.01", "90000.05"), Reason.PRICE_TICK),
        (limit("BTCUSDT", Side.BUY, "0.001", "90000"), Reason.MIN_NOTIONAL),
        (market("BTCUSDT", Side.SELL, "0.01", reduce_only=True), Reason.REDUCE_ONLY_REJECTED),
        (market("BTCUSDT", Side.BUY, "10"), Reason.INSUFFICIENT_MARGIN),
        (limit("BTCUSDT", Side.BUY, "0.01", "99000", tif=TimeInForce.POST_ONLY), Reason.POST_ONLY_WOULD_TAKE),
        (limit("BTCUSDT", Side.BUY, "1.5", ask, tif=TimeInForce.FOK), Reason.FOK_UNFILLABLE),
        (market("NOPE", Side.BUY, "1"), Reason.UNKNOWN_SYMBOL),
    ]
    for req, reason in cases:
        with pytest.raises(SimError) as caught:
            engine.place_order("binance", req)
        assert caught.value.reason is reason, req
    assert engine.account("binance").open_orders == {}
    assert engine.fills("binance") == []


def test_min_qty_and_post_only_expire_variant(engine: Engine) -> None:
    with pytest.raises(SimError) as caught:
        engine.place_order("okx", market("BTC-USDT-SWAP", Side.BUY, "0.00001"))
    assert caught.value.reason in (Reason.QTY_BELOW_MIN, Reason.QTY_STEP)
    order = engine.place_order(
        "okx", limit("BTC-USDT-SWAP", Side.BUY, "0.01", "99000", tif=TimeInForce.POST_ONLY, post_only_reject=False)
    )
    assert order.status is OrderStatus.EXPIRED
    assert order.filled_qty == 0


def test_ioc_fills_what_crosses_and_expires_the_rest(engine: Engine) -> None:
    ask = engine.book("binance", "BTCUSDT").best_ask
    order = engine.place_order("binance", limit("BTCUSDT", Side.BUY, "1.5", str(ask), tif=TimeInForce.IOC))
    assert order.status is OrderStatus.EXPIRED
    assert 0 < order.filled_qty < D("1.5")
    assert engine.open_orders("binance") == []


def test_duplicate_client_id_only_among_open_orders(engine: Engine) -> None:
    engine.place_order("binance", limit("BTCUSDT", Side.BUY, "0.01", "90000", client_order_id="c1"))
    with pytest.raises(SimError) as caught:
        engine.place_order("binance", limit("BTCUSDT", Side.BUY, "0.01", "90000", client_order_id="c1"))
    assert caught.value.reason is Reason.DUPLICATE_CLIENT_ID
    engine.cancel_order("binance", client_order_id="c1")
    engine.place_order("binance", limit("BTCUSDT", Side.BUY, "0.01", "90000", client_order_id="c1"))


def test_reduce_only_never_flips_and_expires_when_flat(engine: Engine) -> None:
    engine.place_order("binance", market("BTCUSDT", Side.BUY, "0.01"))
    resting = engine.place_order("binance", limit("BTCUSDT", Side.SELL, "0.01", "99000", reduce_only=True))
    closing = engine.place_order("binance", market("BTCUSDT", Side.SELL, "0.01"))
    assert closing.status is OrderStatus.FILLED
    assert engine.positions("binance") == []
    assert resting.status is OrderStatus.EXPIRED
    engine.place_order("binance", market("BTCUSDT", Side.BUY, "0.01"))
    big = engine.place_order("binance", market("BTCUSDT", Side.SELL, "0.05", reduce_only=True))
    assert big.filled_qty == D("0.01")
    assert big.status is OrderStatus.EXPIRED
    assert engine.positions("binance") == []


def test_a_resting_order_near_the_mid_fills_within_tens_of_seconds_of_market_time() -> None:
    # On ASTER, the bp-aster loop's symbol (BTC moves at a real market's pace: see sim/market.py).
    filled_after = []
    for seed in range(6):
        engine = Engine(seed=seed, frozen=True)
        mid = engine.book("backpack", "ASTER_USDC_PERP").mid
        below = engine.place_order(
            "backpack", limit("ASTER_USDC_PERP", Side.BUY, "10", str((mid * D("0.998")).quantize(D("0.0001"))))
        )
        above = engine.place_order(
            "backpack", limit("ASTER_USDC_PERP", Side.SELL, "10", str((mid * D("1.002")).quantize(D("0.0001"))))
        )
        ticks = 0
        while below.status.is_open and above.status.is_open and ticks < 4 * 120:
            engine.clock.step(4)  # one second at 250 ms ticks
            engine.sync()
            ticks += 4
        filled_after.append(ticks / 4)
    assert sorted(filled_after)[len(filled_after) // 2] <= 60, filled_after


def test_same_seed_same_requests_same_fills() -> None:
    def run(seed: int) -> list[tuple[str, str, str]]:
        engine = Engine(seed=seed, frozen=True)
        engine.place_order("aster", limit("ETHUSDT", Side.BUY, "0.5", "3495"))
        engine.place_order("aster", limit("ETHUSDT", Side.SELL, "0.5", "3506"))
        for _ in range(200):
            engine.clock.step(1)
            engine.place_order("aster", market("ETHUSDT", Side.BUY, "0.01"))
        return [(str(f.price), str(f.qty), f.side.value) for f in engine.fills("aster")]

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_persistence_round_trip(engine: Engine) -> None:
    engine.place_order("okx", market("SOL-USDT-SWAP", Side.SELL, "3"))
    engine.place_order("okx", limit("SOL-USDT-SWAP", Side.BUY, "1", "100", client_order_id="keep"))
    snapshot = engine.to_json()
    other = Engine(seed=3, frozen=True)
    other.load_json(snapshot)
    assert other.positions("okx")[0].qty == D("-3")
    assert other.get_order("okx", client_order_id="keep").status is OrderStatus.NEW
    assert other.account("okx").balance == engine.account("okx").balance
    assert other.fills("okx") == engine.fills("okx")
    with pytest.raises(ValueError, match="unsupported"):
        other.load_json({"version": 99})


def test_event_bus_publishes_order_lifecycle(engine: Engine) -> None:
    events: list[tuple[str, str]] = []
    unsubscribe = engine.bus.subscribe(lambda e: events.append((e.venue, e.kind.value)))
    engine.place_order("binance", market("BTCUSDT", Side.BUY, "0.01"))
    order = engine.place_order("binance", limit("BTCUSDT", Side.BUY, "0.01", "90000"))
    engine.cancel_order("binance", order_id=order.order_id)
    unsubscribe()
    engine.place_order("binance", market("BTCUSDT", Side.BUY, "0.01"))
    assert events[0] == ("binance", "new")
    assert ("binance", "fill") in events
    assert events[-2:] == [("binance", "new"), ("binance", "canceled")]


async def test_live_clock_fills_resting_orders_without_requests() -> None:
    from hedgectl.sim.core import Simulator
    from hedgectl.sim.server import start

    from .helpers import eventually

    sim = Simulator(seed=2, tick_ms=5)  # live clock, fast ticks: a 0.02% move takes a few hundred ms
    running = await start(sim)
    try:
        fills = []
        sim.engine.bus.subscribe(lambda e: fills.append(e.fill) if e.fill is not None else None)
        mid = sim.engine.book("okx", "ETH-USDT-SWAP").mid
        for side, factor in ((Side.BUY, D("0.9998")), (Side.SELL, D("1.0002"))):
            price = str((mid * factor).quantize(D("0.01")))
            sim.engine.place_order("okx", limit("ETH-USDT-SWAP", side, "0.1", price))
        await eventually(lambda: bool(fills), timeout=20)
        assert fills[0].maker
        assert fills[0].filled_ns > 0
    finally:
        await running.stop()
