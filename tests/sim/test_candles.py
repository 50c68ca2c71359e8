"""The simulator's candles: each venue's wire shape, the simulator's own time, the current candle forming at the
current mid, and a price set through /_sim/price showing from the candle it falls in on, never before."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

import httpx

from hedgectl.sim.candles import now_ms

MINUTE_MS = 60_000


async def _binance(control: httpx.AsyncClient, venue: str = "binance", **params: Any) -> Any:
    symbol = "BTCUSDT"
    response = await control.get(f"/{venue}/fapi/v1/klines", params={"symbol": symbol, "interval": "1m", **params})
    return response.status_code, response.json()


async def test_binance_family_klines_are_oldest_first_and_end_with_the_forming_candle(
    sim_server: Any, control: httpx.AsyncClient
) -> None:
    for venue in ("binance", "aster"):
        status, rows = await _binance(control, venue, limit=30)
        assert status == 200
        assert len(rows) == 30
        opens = [row[0] for row in rows]
        assert opens == sorted(opens)
        assert all(b - a == MINUTE_MS for a, b in itertools.pairwise(opens))
        assert all(isinstance(row[0], int) and isinstance(row[6], int) and isinstance(row[4], str) for row in rows)
        engine = sim_server.sim.engine
        assert opens[-1] == now_ms(engine) // MINUTE_MS * MINUTE_MS
        for row in rows:
            o, h, low, c = (Decimal(x) for x in row[1:5])
            assert low <= min(o, c) <= max(o, c) <= h
        inst = engine.instrument(venue, "BTCUSDT")
        book = engine.book(venue, inst.symbol)
        assert book.best_bid <= Decimal(rows[-1][4]) <= book.best_ask  # the forming candle closes at the mid


async def test_a_frozen_clock_serves_the_same_candles_and_a_step_adds_the_next_minute(
    sim_server: Any, control: httpx.AsyncClient
) -> None:
    _, before = await _binance(control, limit=5)
    _, again = await _binance(control, limit=5)
    assert before == again
    ticks_per_minute = MINUTE_MS // sim_server.sim.engine.clock.tick_ms
    (await control.post("/_sim/clock", json={"step": ticks_per_minute})).raise_for_status()
    _, after = await _binance(control, limit=6)
    assert after[-1][0] == before[-1][0] + MINUTE_MS
    assert after[:4] == before[:4]  # closed candles do not change


async def test_a_price_set_now_shows_in_the_current_candle_only(sim_server: Any, control: httpx.AsyncClient) -> None:
    _, before = await _binance(control, limit=10)
    close = Decimal(before[-1][4])
    (
        await control.post("/_sim/price", json={"symbol": "BTC", "price": str(close * 2), "venue": "binance"})
    ).raise_for_status()
    _, after = await _binance(control, limit=10)
    assert after[:-1] == before[:-1]
    assert Decimal(after[-1][4]) == (close * 2).quantize(Decimal("0.1")) or Decimal(after[-1][4]) > close * Decimal(
        "1.99"
    )
    assert Decimal(after[-1][2]) >= Decimal(after[-1][4])  # the jump is the candle's high


async def test_okx_candles_are_strings_newest_first_with_the_forming_one_unconfirmed(
    sim_server: Any, control: httpx.AsyncClient
) -> None:
    reply = (
        await control.get("/okx/api/v5/market/candles", params={"instId": "BTC-USDT-SWAP", "bar": "1m", "limit": 5})
    ).json()
    rows = reply["data"]
    assert reply["code"] == "0"
    assert len(rows) == 5
    assert all(isinstance(x, str) for row in rows for x in row)
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    assert [r[8] for r in rows] == ["0", "1", "1", "1", "1"]
    older = (
        await control.get(
            "/okx/api/v5/market/candles",
            params={"instId": "BTC-USDT-SWAP", "bar": "1m", "limit": 2, "after": rows[2][0]},
        )
    ).json()["data"]
    assert older == rows[3:5]
    bad = await control.get("/okx/api/v5/market/candles", params={"instId": "BTC-USDT-SWAP", "bar": "7m"})
    assert bad.json()["code"] == "51000"


async def test_backpack_klines_from_a_start_time_with_utc_text_times(
    sim_server: Any, control: httpx.AsyncClient
) -> None:
    start = now_ms(sim_server.sim.engine) // 1000 - 5 * 60
    rows = (
        await control.get(
            "/backpack/api/v1/klines", params={"symbol": "BTC_USDC_PERP", "interval": "1m", "startTime": start}
        )
    ).json()
    assert len(rows) == 6
    assert all(
        set(r) == {"start", "end", "open", "high", "low", "close", "volume", "quoteVolume", "trades"} for r in rows
    )
    assert time.strptime(rows[0]["start"], "%Y-%m-%d %H:%M:%S")
    missing = await control.get("/backpack/api/v1/klines", params={"symbol": "BTC_USDC_PERP", "interval": "1m"})
    assert missing.status_code == 400
