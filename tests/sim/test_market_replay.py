"""The `replay` market source: recorded books and trades drive the simulator's matching, tick by tick.

Each test writes its own recording and drives a frozen clock (100 ms a tick), so replay time is exact.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgectl.errors import ConfigError
from hedgectl.sim.core import Simulator
from hedgectl.sim.market_source import MarketSpec, parse_market
from hedgectl.sim.model import OrderRequest, OrderStatus, OrderType, Side, SimError, TimeInForce

from .market_files import book, funding, trade, write

D = Decimal
TICK_MS = 100
BIDS = [("1.1990", "500"), ("1.1980", "1000")]
ASKS = [("1.2010", "500"), ("1.2020", "1000")]


def replay_sim(path: Path, speed: str = "1") -> Simulator:
    return Simulator(0, tick_ms=TICK_MS, frozen=True, market=MarketSpec("replay", path=path, speed=D(speed)))


def step_to(sim: Simulator, ms: int) -> None:
    """Move the frozen clock so that replay time is `ms` after the recording's start (speed 1)."""
    sim.engine.clock.step(ms // TICK_MS - sim.engine.clock.tick)
    sim.engine.sync()


def resting_buy(sim: Simulator, price: str, qty: str) -> int:
    req = OrderRequest("ASTERUSDT", Side.BUY, OrderType.LIMIT, D(qty), D(price), TimeInForce.POST_ONLY)
    order = sim.engine.place_order("aster", req)
    assert order.status is OrderStatus.NEW
    return order.order_id


def filled(sim: Simulator, order_id: int) -> Decimal:
    return sim.engine.get_order("aster", order_id=order_id).filled_qty


def test_a_resting_buy_fills_only_from_sell_trades_at_or_through_its_price_behind_the_queue(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [
            book(0, "aster", "ASTER", BIDS, ASKS),
            trade(1000, "aster", "ASTER", "1.1995", "100", "sell"),  # above the bid: does not reach it
            trade(2000, "aster", "ASTER", "1.1990", "900", "buy"),  # a buyer took: not a seller hitting bids
            trade(3000, "aster", "ASTER", "1.1990", "300", "sell"),  # at the price: eats 300 of the 500 ahead
            trade(4000, "aster", "ASTER", "1.1990", "400", "sell"),  # eats the last 200 ahead, fills 200
            trade(5000, "aster", "ASTER", "1.1985", "50", "sell"),  # through the price: fills its size
            trade(6000, "aster", "ASTER", "1.1900", "5000", "sell"),  # through again: fills the rest
        ],
    )
    sim = replay_sim(path)
    oid = resting_buy(sim, "1.1990", "300")
    for ms, expected in [(1000, "0"), (2000, "0"), (3000, "0"), (4000, "200"), (5000, "250"), (6000, "300")]:
        step_to(sim, ms)
        assert filled(sim, oid) == D(expected), ms
    fills = sim.engine.fills("aster")
    assert {f.price for f in fills} == {D("1.1990")}
    assert all(f.maker for f in fills)
    assert sim.engine.get_order("aster", order_id=oid).status is OrderStatus.FILLED


def test_a_price_that_improves_the_book_is_first_in_its_queue(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [book(0, "aster", "ASTER", BIDS, ASKS), trade(1000, "aster", "ASTER", "1.1995", "40", "sell")],
    )
    sim = replay_sim(path)
    oid = resting_buy(sim, "1.1995", "100")  # no displayed size at 1.1995: nobody ahead
    step_to(sim, 1000)
    assert filled(sim, oid) == D(40)


def test_a_book_that_moves_through_a_resting_order_without_a_trade_does_not_fill_it(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [
            book(0, "aster", "ASTER", BIDS, ASKS),
            book(1000, "aster", "ASTER", [("1.1900", "500")], [("1.1950", "500")]),  # asks now below the bid
        ],
    )
    sim = replay_sim(path)
    oid = resting_buy(sim, "1.1990", "100")
    step_to(sim, 2000)
    assert filled(sim, oid) == 0


def test_trades_before_an_order_was_placed_never_fill_it(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [book(0, "aster", "ASTER", BIDS, ASKS), trade(500, "aster", "ASTER", "1.1000", "1000", "sell")],
    )
    sim = replay_sim(path)
    step_to(sim, 1000)
    oid = resting_buy(sim, "1.1990", "100")
    step_to(sim, 5000)
    assert filled(sim, oid) == 0


def _walk(levels: list[tuple[Decimal, Decimal]], qty: Decimal) -> tuple[Decimal, Decimal]:
    """What taking `qty` from `levels` costs: (quantity filled, quote paid), computed independently of the engine."""
    got, paid = D(0), D(0)
    for price, size in levels:
        take = min(size, qty - got)
        got, paid = got + take, paid + take * price
    return got, paid


ASK_LEVELS = [(D("100.0"), D("1")), (D("100.5"), D("2")), (D("101.0"), D("5"))]


@settings(max_examples=40, deadline=None)
@given(first=st.integers(1, 80), second=st.integers(1, 80))
def test_market_orders_slip_exactly_as_walking_the_replayed_depth(tmp_path_factory, first: int, second: int) -> None:
    path = tmp_path_factory.mktemp("rec") / "m.jsonl"
    write(
        path,
        [
            book(0, "binance", "SOL", [("99.5", "8")], [(f"{p}", f"{q}") for p, q in ASK_LEVELS]),
            book(1000, "binance", "SOL", [("99.5", "8")], [(f"{p}", f"{q}") for p, q in ASK_LEVELS]),
        ],
    )
    sim = replay_sim(path)
    a, b = D(first) / 10, D(second) / 10
    o1 = sim.engine.place_order("binance", OrderRequest("SOLUSDT", Side.BUY, OrderType.MARKET, a))
    o2 = sim.engine.place_order("binance", OrderRequest("SOLUSDT", Side.BUY, OrderType.MARKET, b))
    # Within one snapshot the second order takes what the first left; the book's total is 8.
    got1, paid1 = _walk(ASK_LEVELS, a)
    got_both, paid_both = _walk(ASK_LEVELS, a + b)
    assert (o1.filled_qty, o1.filled_quote) == (got1, paid1)
    assert (o2.filled_qty, o2.filled_quote) == (got_both - got1, paid_both - paid1)
    # The next recorded snapshot is fresh liquidity.
    step_to(sim, 1000)
    o3 = sim.engine.place_order("binance", OrderRequest("SOLUSDT", Side.BUY, OrderType.MARKET, a))
    assert (o3.filled_qty, o3.filled_quote) == (got1, paid1)


def test_replay_time_follows_the_speed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [
            book(0, "aster", "ASTER", BIDS, ASKS),
            book(4000, "aster", "ASTER", [("1.3000", "1")], [("1.3010", "1")]),
        ],
    )
    sim = replay_sim(path, speed="4")
    sim.engine.clock.step(9)  # 900 ms of simulator time = 3.6 s of recording
    assert sim.engine.book("aster", "ASTERUSDT").best_bid == D("1.1990")
    sim.engine.clock.step(1)  # 4.0 s
    assert sim.engine.book("aster", "ASTERUSDT").best_bid == D("1.3000")


def test_a_replay_lists_only_what_it_recorded_and_takes_its_funding_rate_and_mark(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [book(0, "aster", "ASTER", BIDS, ASKS), funding(0, "aster", "ASTER", "0.00042", mark="1.2001")],
    )
    sim = replay_sim(path)
    assert list(sim.engine.instruments["aster"]) == ["ASTERUSDT"]
    assert sim.engine.instruments["binance"] == {}
    assert sim.engine.funding_state("aster", "ASTERUSDT").rate == D("0.00042")
    assert sim.engine.mark_price("aster", "ASTERUSDT") == D("1.2001")
    with pytest.raises(SimError):
        sim.engine.set_price("ASTER", D("2"))


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        ([], "is empty"),
        (['{"format": "other"}'], ":1: the first line must be the header"),
        (['{"format": "hedgectl-market", "version": 9}'], "unsupported recording version 9"),
        (
            [
                '{"format":"hedgectl-market","version":1,"started_ms":0,"venues":["aster"],"symbols":["ASTER"]}',
                '{"t":1,"kind":"trade","venue":"aster","symbol":"ASTER","price":"x","qty":"1","taker":"buy"}',
            ],
            ":2: price must be a positive decimal string",
        ),
        (
            ['{"format":"hedgectl-market","version":1,"started_ms":0,"venues":[],"symbols":[]}', "not json"],
            ":2: not JSON",
        ),
        (['{"format":"hedgectl-market","version":1,"started_ms":0,"venues":[],"symbols":[]}'], "holds no book"),
    ],
)
def test_a_bad_recording_is_one_config_error_naming_the_line(tmp_path: Path, lines: list[str], fragment: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        replay_sim(path)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "kwargs", "fragment"),
    [
        ("random", {}, "must be synthetic, replay:FILE or live"),
        ("replay", {}, "replay needs a recording"),
        ("replay:x.jsonl", {"speed": "0"}, "speed must be a positive number"),
        ("replay:x.jsonl", {"speed": "fast"}, "speed must be a positive number"),
        ("live", {"venues": "kraken"}, "live venues must be among"),
        ("live", {"symbols": "DOGE"}, "live symbols must be among"),
        ("live", {"live_url": "ftp://x"}, "must be http(s)"),
        ("synthetic:7", {}, "takes no argument"),
    ],
)
def test_a_bad_market_setting_is_one_config_error(raw: str, kwargs: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_market(raw, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_market_settings_read_as_given() -> None:
    assert parse_market(None).kind == "synthetic"
    spec = parse_market("replay:day.jsonl", speed="2.5")
    assert (spec.kind, spec.path, spec.speed, spec.label) == (
        "replay",
        Path("day.jsonl"),
        D("2.5"),
        "replay day.jsonl x2.5",
    )
    live = parse_market("live", venues="aster, backpack", symbols="aster")
    assert (live.venues, live.symbols, live.label) == (("aster", "backpack"), ("ASTER",), "live")


trade_lists = st.lists(
    st.tuples(
        st.sampled_from(["1.1980", "1.1985", "1.1990", "1.1995", "1.2000"]),
        st.integers(1, 900),
        st.sampled_from(["buy", "sell"]),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(trades=trade_lists, qty=st.integers(5, 600))
def test_a_resting_order_never_fills_more_than_the_trades_that_reached_it(
    tmp_path_factory, trades: list[tuple[str, int, str]], qty: int
) -> None:
    path = tmp_path_factory.mktemp("rec") / "m.jsonl"
    events = [book(0, "aster", "ASTER", BIDS, ASKS)]
    events += [trade(1000 * (i + 1), "aster", "ASTER", p, str(q), side) for i, (p, q, side) in enumerate(trades)]
    write(path, events)
    sim = replay_sim(path)
    oid = resting_buy(sim, "1.1990", str(qty))
    step_to(sim, 1000 * (len(trades) + 1))
    reaching = [(D(p), D(q)) for p, q, side in trades if side == "sell" and D(p) <= D("1.1990")]
    reached = sum((q for _, q in reaching), D(0))
    got = filled(sim, oid)
    assert got <= min(D(qty), reached)
    if all(p == D("1.1990") for p, _ in reaching):
        # Only trades at the price: the 500 displayed ahead of the order go first.
        assert got == min(D(qty), max(D(0), reached - 500))
    assert all(f.price == D("1.1990") and f.maker for f in sim.engine.fills("aster"))


def test_candles_on_a_replay_are_the_replayed_mids(tmp_path: Path) -> None:
    from hedgectl.sim import candles as sim_candles

    path = write(
        tmp_path / "m.jsonl",
        [
            book(0, "aster", "ASTER", BIDS, ASKS),  # mid 1.2000
            book(2000, "aster", "ASTER", [("1.3000", "1")], [("1.3010", "1")]),  # mid 1.3005
            book(4000, "aster", "ASTER", [("1.1000", "1")], [("1.1010", "1")]),  # mid 1.1005
        ],
    )
    sim = replay_sim(path)
    step_to(sim, 5000)
    inst = sim.engine.instruments["aster"]["ASTERUSDT"]
    rows = sim_candles.candles(sim.engine, inst, 60_000, limit=1)
    assert len(rows) == 1
    high, low = rows[0].high, rows[0].low
    assert high >= D("1.300") > D("1.101") >= low  # the replay's mids, not the synthetic walk's


def test_a_venue_the_recording_does_not_list_has_an_empty_exchange_info_not_an_error(tmp_path: Path) -> None:
    from hedgectl.sim.dialects.binance_wire import exchange_info

    sim = replay_sim(write(tmp_path / "m.jsonl", [book(0, "aster", "ASTER", BIDS, ASKS)]))
    assert not sim.engine.instruments["binance"]
    info = exchange_info(sim.engine, "binance", tifs=["GTC"])
    assert info["symbols"] == []
    assert [a["asset"] for a in info["assets"]] == ["USDT"]
