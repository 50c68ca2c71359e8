"""The Binance family's public market-data endpoints (no key): exchangeInfo, depth, trades, klines, tickers,
premium index and funding, as methods of the dialect (`binance_family.ENDPOINTS` names them), plus the request
helpers every Binance-family handler uses.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from aiohttp import web

from hedgectl.sim import candles as sim_candles
from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects import binance_wire as wire
from hedgectl.sim.dialects.base import Call, Dialect, Reply, json_response
from hedgectl.sim.instruments import Instrument

_MINUTE_MS = 60_000
KLINE_INTERVALS_MS: dict[str, int] = {
    "1m": _MINUTE_MS, "3m": 3 * _MINUTE_MS, "5m": 5 * _MINUTE_MS, "15m": 15 * _MINUTE_MS, "30m": 30 * _MINUTE_MS,
    "1h": 60 * _MINUTE_MS, "2h": 120 * _MINUTE_MS, "4h": 240 * _MINUTE_MS, "1d": 1440 * _MINUTE_MS,
}  # fmt: skip


def instrument(call: Call) -> Instrument:
    """The instrument `symbol` names (required); unknown -> SimError(UNKNOWN_SYMBOL)."""
    return call.engine.instrument(call.venue, call.require("symbol"))


def instrument_or_none(call: Call) -> Instrument | None:
    """The instrument `symbol` names, None when the request names none (a reply for every symbol)."""
    symbol = call.get("symbol")
    return None if symbol is None else call.engine.instrument(call.venue, symbol)


def read_limit(call: Call, default: int, maximum: int) -> int:
    """The `limit` parameter, clamped to 1..maximum as the venue does; `default` when absent."""
    value = call.integer("limit", required=False)
    if value is None:
        return default
    return max(1, min(value, maximum))


class BinanceMarketData(Dialect):
    """Binance USDⓈ-M public endpoints; `time_in_force` and `auto_asset_exchange` are what exchangeInfo lists."""

    time_in_force: ClassVar[list[str]] = ["GTC", "IOC", "FOK", "GTX", "GTD"]
    # The type the real venue uses (recorded replies): Binance sends 0, Aster "-10000".
    auto_asset_exchange: ClassVar[int | str] = 0

    def ping(self, call: Call) -> web.StreamResponse:
        return json_response({})

    def server_time(self, call: Call) -> web.StreamResponse:
        return json_response({"serverTime": int(time.time() * 1000)})

    def exchange_info(self, call: Call) -> web.StreamResponse:
        info = wire.exchange_info(
            self.engine, self.venue, tifs=self.time_in_force, auto_asset_exchange=self.auto_asset_exchange
        )
        return json_response(info)

    def depth(self, call: Call) -> web.StreamResponse:
        return json_response(wire.depth(self.engine, instrument(call), read_limit(call, 500, 1000)))

    def public_trades(self, call: Call) -> web.StreamResponse:
        """GET /fapi/v1/trades: recent public trades, oldest first (`isBuyerMaker`: a seller took)."""
        inst = instrument(call)
        rows = [
            {
                "id": int(t.trade_id),
                "price": f"{t.price:f}",
                "qty": f"{t.qty:f}",
                "quoteQty": f"{t.price * t.qty:f}",
                "time": t.time_ms,
                "isBuyerMaker": t.taker == "sell",
            }
            for t in self.engine.public_trades(self.venue, inst.symbol, read_limit(call, 500, 1000))
        ]
        return json_response(rows)

    def klines(self, call: Call) -> web.StreamResponse:
        """GET /fapi/v1/klines: [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades,
        takerBuyBase, takerBuyQuote, "0"], oldest first; times as numbers, prices as strings."""
        inst = instrument(call)
        interval_ms = KLINE_INTERVALS_MS.get(call.require("interval"))
        if interval_ms is None:
            raise Reply(errors.error(-1120, "Invalid interval."))
        rows = sim_candles.candles(
            self.engine,
            inst,
            interval_ms,
            limit=read_limit(call, 500, 1500),
            start_ms=call.integer("startTime", required=False),
            end_ms=call.integer("endTime", required=False),
        )
        return json_response(
            [
                [
                    c.open_ms, str(c.open), str(c.high), str(c.low), str(c.close), str(c.volume),
                    c.open_ms + interval_ms - 1, str(c.quote_volume.quantize(inst.tick_size)), c.trades,
                    str(c.volume / 2), str((c.quote_volume / 2).quantize(inst.tick_size)), "0",
                ]
                for c in rows
            ]
        )  # fmt: skip

    def _each(self, call: Call, render: Any) -> web.StreamResponse:
        inst = instrument_or_none(call)
        if inst is not None:
            return json_response(render(inst))
        return json_response([render(i) for i in self.engine.instruments[self.venue].values()])

    def ticker_24hr(self, call: Call) -> web.StreamResponse:
        return self._each(call, lambda inst: wire.ticker_24h(self.engine, inst))

    def book_ticker(self, call: Call) -> web.StreamResponse:
        return self._each(call, lambda inst: wire.book_ticker(self.engine, inst))

    def ticker_price(self, call: Call) -> web.StreamResponse:
        return self._each(
            call,
            lambda inst: {
                "symbol": inst.symbol,
                "price": wire.px(inst, self.engine.mark_price(self.venue, inst.symbol)),
                "time": int(time.time() * 1000),
            },
        )

    def premium_index(self, call: Call) -> web.StreamResponse:
        return self._each(
            call, lambda inst: wire.premium_index(self.engine, inst, self.engine.funding_state(self.venue, inst.symbol))
        )

    def funding_info(self, call: Call) -> web.StreamResponse:
        # Binance lists only symbols whose interval or caps were adjusted (ours: those not on 8 h).
        return json_response(
            [
                {
                    "symbol": inst.symbol,
                    "adjustedFundingRateCap": "0.03000000",
                    "adjustedFundingRateFloor": "-0.03000000",
                    "fundingIntervalHours": inst.funding_interval_ms // 3_600_000,
                    "disclaimer": False,
                }
                for inst in self.engine.instruments[self.venue].values()
                if inst.funding_interval_ms != 8 * 3_600_000
            ]
        )

    def funding_rate_history(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        state = self.engine.funding_state(self.venue, inst.symbol)
        limit = read_limit(call, 100, 1000)
        mark = self.engine.mark_price(self.venue, inst.symbol)
        rows = [
            {
                "symbol": inst.symbol,
                "fundingRate": wire.fmt8(state.rate),
                "fundingTime": state.next_ms - k * state.interval_ms,
                "markPrice": wire.fmt8(mark),
            }
            for k in range(min(limit, 30), 0, -1)
        ]
        return json_response(rows)
