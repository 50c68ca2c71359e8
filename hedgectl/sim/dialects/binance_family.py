"""Endpoints shared by the Binance USDⓈ-M dialect and its Aster clone; subclasses add authentication."""

from __future__ import annotations

import inspect
import json
import random
import re
import secrets
import time
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from hedgectl.sim import candles as sim_candles
from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects import binance_wire as wire
from hedgectl.sim.dialects.base import Call, Dialect, Problem, Reply, Route, json_response
from hedgectl.sim.dialects.binance_orders import check_mode_params, read_order
from hedgectl.sim.dialects.binance_stream import UserDataStreams
from hedgectl.sim.faults import Fault, FaultKind
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import (
    Order,
    PositionMode,
    PosSide,
    Reason,
    SimError,
    TimeInForce,
)

_MINUTE_MS = 60_000
KLINE_INTERVALS_MS: dict[str, int] = {
    "1m": _MINUTE_MS, "3m": 3 * _MINUTE_MS, "5m": 5 * _MINUTE_MS, "15m": 15 * _MINUTE_MS, "30m": 30 * _MINUTE_MS,
    "1h": 60 * _MINUTE_MS, "2h": 120 * _MINUTE_MS, "4h": 240 * _MINUTE_MS, "1d": 1440 * _MINUTE_MS,
}  # fmt: skip
INCOME_DEFAULT_WINDOW_MS = 7 * 24 * 3_600_000  # income without startTime/endTime: the last 7 days

# (method, endpoint below the version, op, handler attribute, auth label)
Endpoint = tuple[str, str, str, str, str]
ENDPOINTS: list[Endpoint] = [
    ("GET", "ping", "ping", "ping", "none"),
    ("GET", "time", "fetch_time", "server_time", "none"),
    ("GET", "exchangeInfo", "load_markets", "exchange_info", "none"),
    ("GET", "depth", "fetch_order_book", "depth", "none"),
    ("GET", "trades", "fetch_trades", "public_trades", "none"),
    ("GET", "ticker/24hr", "fetch_ticker", "ticker_24hr", "none"),
    ("GET", "ticker/bookTicker", "fetch_bids_asks", "book_ticker", "none"),
    ("GET", "ticker/price", "fetch_last_prices", "ticker_price", "none"),
    ("GET", "premiumIndex", "fetch_funding_rate", "premium_index", "none"),
    ("GET", "fundingInfo", "fetch_funding_interval", "funding_info", "none"),
    ("GET", "fundingRate", "fetch_funding_rate_history", "funding_rate_history", "none"),
    ("GET", "klines", "fetch_ohlcv", "klines", "none"),
    ("POST", "order", "create_order", "create_order", "signed"),
    ("GET", "order", "fetch_order", "fetch_order", "signed"),
    ("DELETE", "order", "cancel_order", "cancel_order", "signed"),
    ("GET", "openOrder", "fetch_order", "fetch_open_order", "signed"),
    ("GET", "openOrders", "fetch_open_orders", "open_orders", "signed"),
    ("GET", "allOrders", "fetch_orders", "all_orders", "signed"),
    ("DELETE", "allOpenOrders", "cancel_all_orders", "cancel_all", "signed"),
    ("GET", "userTrades", "fetch_my_trades", "user_trades", "signed"),
    ("GET", "income", "fetch_funding_history", "income", "signed"),
    ("GET", "leverageBracket", "fetch_leverage_tiers", "leverage_bracket", "signed"),
    ("GET", "commissionRate", "fetch_trading_fee", "commission_rate", "signed"),
    ("POST", "leverage", "set_leverage", "set_leverage", "signed"),
    ("POST", "marginType", "set_margin_mode", "set_margin_type", "signed"),
    ("GET", "positionSide/dual", "fetch_position_mode", "get_position_mode", "signed"),
    ("POST", "positionSide/dual", "set_position_mode", "set_position_mode", "signed"),
    ("POST", "listenKey", "listen_key", "listen_key_new", "key"),
    ("PUT", "listenKey", "listen_key", "listen_key_keepalive", "key"),
    ("DELETE", "listenKey", "listen_key", "listen_key_close", "key"),
    ("GET", "positionRisk", "fetch_positions", "position_risk", "signed"),
    ("GET", "account", "fetch_balance", "account", "signed"),
    ("GET", "balance", "fetch_balance", "balance", "signed"),
]


def vary_numbers(payload: Any, fields: frozenset[str]) -> Any:
    """`payload` with the integer values of `fields` (at any depth) sent as strings, as the real venue may."""
    if isinstance(payload, list):
        return [vary_numbers(item, fields) for item in payload]
    if isinstance(payload, dict):
        return {
            k: str(v) if k in fields and isinstance(v, int) and not isinstance(v, bool) else vary_numbers(v, fields)
            for k, v in payload.items()
        }
    return payload


def version_of(path: str) -> int:
    """The API version in a path like /fapi/v3/order (0 when absent)."""
    match = re.search(r"/v(\d+)/", path)
    return int(match.group(1)) if match else 0


class BinanceFamily(Dialect):
    """Binance USDⓈ-M REST semantics; `versions` says which /fapi/vN serve which endpoint."""

    api_root: ClassVar[str] = "/fapi"
    versions: ClassVar[dict[str, tuple[int, ...]]] = {}
    default_versions: ClassVar[tuple[int, ...]] = (1,)
    time_in_force: ClassVar[list[str]] = ["GTC", "IOC", "FOK", "GTX", "GTD"]
    # Binance serves the user-data WS under /private/ws?listenKey= as well as /ws/<key>; Aster only the latter.
    stream_split_path: ClassVar[bool] = False
    # Types the real venue uses (recorded replies): Binance sends 200 and 0, Aster "200" and "-10000".
    cancel_all_code: ClassVar[int | str] = 200
    auto_asset_exchange: ClassVar[int | str] = 0
    # Integer fields the real venue sends as a JSON number in one reply and as a string in another, per endpoint
    # handler: each reply flips a seeded coin, so clients see both representations (see `vary_numbers`).
    varying_numbers: ClassVar[dict[str, frozenset[str]]] = {}
    # From which version positionRisk lists only symbols with a position and drops leverage/marginType
    # (Binance v3; Aster's v3 still has every row and both fields, as its v3 docs example shows).
    position_risk_v3_from: ClassVar[int] = 3

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.streams = UserDataStreams(self, split_path=self.stream_split_path)
        self._wire_rng = random.Random(f"{self.engine.seed}:wire:{self.venue}")

    def routes(self) -> list[Route]:
        out: list[Route] = []
        for method, name, op, attr, auth in ENDPOINTS:
            for version in self.versions.get(name, self.default_versions):
                path = f"{self.api_root}/v{version}/{name}"
                out.append(Route(method, path, op, self._varied(attr, getattr(self, attr)), auth))
        return out

    def _varied(self, attr: str, handler: Any) -> Any:
        fields = self.varying_numbers.get(attr)
        if not fields:
            return handler

        async def varied(call: Call) -> web.StreamResponse:
            reply: web.StreamResponse = handler(call)
            if inspect.isawaitable(reply):
                reply = await reply
            if isinstance(reply, web.Response) and reply.status == 200 and reply.text and self._wire_rng.random() < 0.5:
                return json_response(vary_numbers(json.loads(reply.text), fields))
            return reply

        return varied

    # ---- errors --------------------------------------------------------------------------------

    def render_sim_error(self, err: SimError, call: Call) -> web.StreamResponse:
        return errors.sim_error(err, call.route.op)

    def render_problem(self, problem: Problem, detail: str, call: Call | None) -> web.StreamResponse:
        method = call.request.method if call else "GET"
        path = call.request.path.removeprefix(self.prefix) if call else ""
        return errors.problem(problem, detail, method, path)

    def render_fault(self, kind: FaultKind, fault: Fault, call: Call) -> web.StreamResponse:
        if kind is FaultKind.RATE_LIMIT:
            return errors.rate_limited()
        if kind is FaultKind.HTTP_500:
            return errors.internal_error()
        if fault.code is not None:
            return errors.error(int(fault.code), fault.msg or "Rejected by simulator fault.")
        return errors.rejected(call.route.op)

    def client_order_id(self, call: Call) -> str | None:
        op = call.route.op
        if op == "create_order":
            given = call.get("newClientOrderId")
            if given is None:
                # Binance names unnamed orders itself; decide now so the request log shows it.
                given = call.extra["generated_client_id"] = f"sim{secrets.token_hex(11)}"
            return given
        if op in ("cancel_order", "fetch_order"):
            return call.get("origClientOrderId")
        return None

    # ---- helpers -------------------------------------------------------------------------------

    def _inst(self, call: Call) -> Instrument:
        return self.engine.instrument(self.venue, call.require("symbol"))

    def _opt_inst(self, call: Call) -> Instrument | None:
        symbol = call.get("symbol")
        return None if symbol is None else self.engine.instrument(self.venue, symbol)

    def _find(self, call: Call, inst: Instrument) -> Order:
        order_id = call.integer("orderId", required=False)
        client_id = call.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise Reply(
                errors.error(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
            )
        order = self.engine.get_order(self.venue, order_id=order_id, client_order_id=client_id)
        if order.symbol != inst.symbol:
            raise SimError(Reason.ORDER_NOT_FOUND, str(order_id or client_id))
        return order

    @staticmethod
    def _limit(call: Call, default: int, maximum: int) -> int:
        value = call.integer("limit", required=False)
        if value is None:
            return default
        return max(1, min(value, maximum))

    # ---- public --------------------------------------------------------------------------------

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
        return json_response(wire.depth(self.engine, self._inst(call), self._limit(call, 500, 1000)))

    def public_trades(self, call: Call) -> web.StreamResponse:
        """GET /fapi/v1/trades: recent public trades, oldest first (`isBuyerMaker`: a seller took)."""
        inst = self._inst(call)
        rows = [
            {
                "id": int(t.trade_id),
                "price": f"{t.price:f}",
                "qty": f"{t.qty:f}",
                "quoteQty": f"{t.price * t.qty:f}",
                "time": t.time_ms,
                "isBuyerMaker": t.taker == "sell",
            }
            for t in self.engine.public_trades(self.venue, inst.symbol, self._limit(call, 500, 1000))
        ]
        return json_response(rows)

    def klines(self, call: Call) -> web.StreamResponse:
        """GET /fapi/v1/klines: [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades,
        takerBuyBase, takerBuyQuote, "0"], oldest first; times as numbers, prices as strings."""
        inst = self._inst(call)
        interval_ms = KLINE_INTERVALS_MS.get(call.require("interval"))
        if interval_ms is None:
            raise Reply(errors.error(-1120, "Invalid interval."))
        rows = sim_candles.candles(
            self.engine,
            inst,
            interval_ms,
            limit=self._limit(call, 500, 1500),
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
        inst = self._opt_inst(call)
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
        inst = self._inst(call)
        state = self.engine.funding_state(self.venue, inst.symbol)
        limit = self._limit(call, 100, 1000)
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

    # ---- orders --------------------------------------------------------------------------------

    def parse_tif(self, raw: str) -> TimeInForce:
        if raw == "GTD":
            return TimeInForce.GTC
        tif = wire.TIF_FROM_WIRE.get(raw)
        if tif is None:
            raise Reply(errors.error(-1115, "Invalid timeInForce."))
        return tif

    def conditional_order_error(self) -> web.Response:
        return errors.error(
            -4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
        )

    def create_order(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        req = read_order(
            call,
            inst,
            time_in_force=self.time_in_force,
            parse_tif=self.parse_tif,
            conditional_error=self.conditional_order_error,
        )
        call.note_order(req)
        check_mode_params(call, req)
        resp_type = call.get("newOrderRespType", "ACK")
        if resp_type not in ("ACK", "RESULT"):
            raise Reply(errors.error(-1100, "Illegal characters found in parameter 'newOrderRespType'."))
        order = call.place_order(req)
        return json_response(wire.order_json(inst, order, ack=resp_type == "ACK", reply="place"))

    def fetch_order(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        return json_response(wire.order_json(inst, self._find(call, inst)))

    def fetch_open_order(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        order = self._find(call, inst)
        if not order.status.is_open:
            raise SimError(Reason.ORDER_NOT_FOUND, str(order.order_id))
        return json_response(wire.order_json(inst, order))

    def cancel_order(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        order = self._find(call, inst)
        self.engine.cancel_order(self.venue, order_id=order.order_id)
        return json_response(wire.order_json(inst, order, reply="cancel"))

    def cancel_all(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        self.engine.cancel_all(self.venue, inst.symbol)
        return json_response({"code": self.cancel_all_code, "msg": "The operation of cancel all open order is done."})

    def open_orders(self, call: Call) -> web.StreamResponse:
        inst = self._opt_inst(call)
        orders = self.engine.open_orders(self.venue, None if inst is None else inst.symbol)
        return json_response([wire.order_json(self.engine.instrument(self.venue, o.symbol), o) for o in orders])

    def all_orders(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        from_id = call.integer("orderId", required=False) or 0
        start = call.integer("startTime", required=False) or 0
        end = call.integer("endTime", required=False) or 2**62
        orders = [
            o
            for o in self.engine.account(self.venue).all_orders()
            if o.symbol == inst.symbol and o.order_id >= from_id and start <= o.created_ms <= end
        ]
        limit = self._limit(call, 500, 1000)
        return json_response([wire.order_json(inst, o) for o in orders[-limit:]])

    # ---- account -------------------------------------------------------------------------------

    def user_trades(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        order_id = call.integer("orderId", required=False)
        from_id = call.integer("fromId", required=False) or 0
        start = call.integer("startTime", required=False) or 0
        end = call.integer("endTime", required=False) or 2**62
        fills = [
            f
            for f in self.engine.fills(self.venue, inst.symbol, order_id)
            if f.fill_id >= from_id and start <= f.time_ms <= end
        ]
        limit = self._limit(call, 500, 1000)
        return json_response([wire.trade_json(inst, f) for f in fills[-limit:]])

    def income(self, call: Call) -> web.StreamResponse:
        """GET /fapi/vN/income: ascending by time; [startTime, endTime] (the last 7 days when neither is sent);
        with a startTime the first `limit` rows from it, otherwise the latest `limit` (as the venue pages)."""
        inst = self._opt_inst(call)
        wanted = call.get("incomeType")
        start = call.integer("startTime", required=False)
        end = call.integer("endTime", required=False)
        if start is None and end is None:
            start = int(time.time() * 1000) - INCOME_DEFAULT_WINDOW_MS
        acct = self.engine.account(self.venue)
        rows: list[dict[str, Any]] = []
        for pay in acct.funding:
            if inst is None or pay.symbol == inst.symbol:
                rows.append(self._income_row(pay.symbol, "FUNDING_FEE", pay.amount, pay.time_ms, pay.payment_id))
        for fill in self.engine.fills(self.venue, None if inst is None else inst.symbol):
            rows.append(self._income_row(fill.symbol, "COMMISSION", -fill.fee, fill.time_ms, fill.fill_id))
            if fill.realized_pnl:
                rows.append(
                    self._income_row(fill.symbol, "REALIZED_PNL", fill.realized_pnl, fill.time_ms, fill.fill_id)
                )
        rows = [
            r
            for r in rows
            if (wanted is None or r["incomeType"] == wanted)
            and (start is None or r["time"] >= start)
            and (end is None or r["time"] <= end)
        ]
        rows.sort(key=lambda r: (r["time"], int(r["tranId"])))
        limit = self._limit(call, 100, 1000)
        return json_response(rows[:limit] if call.get("startTime") is not None else rows[-limit:])

    def _income_row(self, symbol: str, kind: str, amount: Decimal, stamp: int, tran: int) -> dict[str, Any]:
        return {
            "symbol": symbol,
            "incomeType": kind,
            "income": wire.fmt8(amount),
            "asset": self.engine.account(self.venue).asset,
            "info": kind,
            "time": stamp,
            "tranId": str(tran),  # a string on the real venue (tradeId too)
            "tradeId": str(tran) if kind != "FUNDING_FEE" else "",
        }

    def leverage_bracket(self, call: Call) -> web.StreamResponse:
        inst = self._opt_inst(call)
        if inst is not None:
            return json_response([wire.leverage_brackets(inst)])
        return json_response([wire.leverage_brackets(i) for i in self.engine.instruments[self.venue].values()])

    def commission_rate(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        return json_response(
            {
                "symbol": inst.symbol,
                "makerCommissionRate": f"{inst.maker_fee:f}",
                "takerCommissionRate": f"{inst.taker_fee:f}",
            }
        )

    def set_leverage(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        leverage = call.integer("leverage")
        if not 1 <= leverage <= inst.max_leverage:
            raise Reply(errors.error(-4028, f"Leverage {leverage} is not valid"))
        self.engine.account(self.venue).leverage = leverage
        return json_response({"leverage": leverage, "maxNotionalValue": "5000000", "symbol": inst.symbol})

    def set_margin_type(self, call: Call) -> web.StreamResponse:
        self._inst(call)
        mode = call.require("marginType")
        if mode == "CROSSED":
            raise Reply(errors.error(-4046, "No need to change margin type."))
        if mode != "ISOLATED":
            raise Reply(errors.error(-1100, "Illegal characters found in parameter 'marginType'."))
        raise Reply(errors.error(-4047, "Margin type cannot be changed if there exists open orders."))

    def get_position_mode(self, call: Call) -> web.StreamResponse:
        hedge = self.engine.account(self.venue).position_mode is PositionMode.HEDGE
        return json_response({"dualSidePosition": hedge})

    def set_position_mode(self, call: Call) -> web.StreamResponse:
        wanted = PositionMode.HEDGE if call.flag("dualSidePosition") else PositionMode.ONE_WAY
        if self.engine.account(self.venue).position_mode is wanted:
            raise Reply(errors.error(-4059, "No need to change position side."))
        try:
            self.engine.set_position_mode(self.venue, wanted)
        except SimError:
            raise Reply(errors.error(-4068, "The position side cannot be changed if there exists position.")) from None
        return json_response({"code": 200, "msg": "success"})

    # ---- user data stream: listenKey REST + the private WS (binance_stream.py) ----------------------

    def extra_routes(self) -> list[web.RouteDef]:
        return self.streams.routes()

    def listen_key_new(self, call: Call) -> web.StreamResponse:
        return self.streams.new_key(call)

    def listen_key_keepalive(self, call: Call) -> web.StreamResponse:
        return self.streams.keepalive(call)

    def listen_key_close(self, call: Call) -> web.StreamResponse:
        return self.streams.close_key(call)

    def position_risk(self, call: Call) -> web.StreamResponse:
        version = version_of(call.request.path)
        if version >= self.position_risk_v3_from:
            version = 3
        elif version >= 3:
            version = 2
        inst = self._opt_inst(call)
        if version >= 3:
            # v3 lists only symbols with a position.
            positions = [p for p in self.engine.positions(self.venue) if inst is None or p.symbol == inst.symbol]
        else:
            insts = [inst] if inst is not None else list(self.engine.instruments[self.venue].values())
            hedge = self.engine.account(self.venue).position_mode is PositionMode.HEDGE
            # v2 lists every symbol, in hedge mode a LONG and a SHORT row each.
            sides = (PosSide.LONG, PosSide.SHORT) if hedge else (PosSide.BOTH,)
            positions = [self.engine.position(self.venue, i.symbol, side) for i in insts for side in sides]
        rows = [
            wire.position_json(self.engine, self.engine.instrument(self.venue, p.symbol), p, version=version)
            for p in positions
        ]
        return json_response(rows)

    def account(self, call: Call) -> web.StreamResponse:
        return json_response(wire.account_json(self.engine, self.venue))

    def balance(self, call: Call) -> web.StreamResponse:
        return json_response(wire.balance_rows(self.engine, self.venue))
