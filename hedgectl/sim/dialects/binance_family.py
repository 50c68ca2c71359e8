"""Endpoints shared by the Binance USDⓈ-M dialect and its Aster clone; subclasses add authentication.

This module holds the routing table (ENDPOINTS), the venue's error and fault replies, the order endpoints and the
user-data stream's listenKey routes; the public market data is `binance_market.py`'s, the account endpoints
`binance_account.py`'s (the dialect class inherits both sets of handlers).
"""

from __future__ import annotations

import inspect
import json
import random
import secrets
from typing import Any, ClassVar

from aiohttp import web

from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects import binance_trade_wire as trade_wire
from hedgectl.sim.dialects import binance_wire as wire
from hedgectl.sim.dialects.base import Call, Problem, Reply, Route, json_response
from hedgectl.sim.dialects.binance_account import BinanceAccountData
from hedgectl.sim.dialects.binance_market import BinanceMarketData, instrument, instrument_or_none, read_limit
from hedgectl.sim.dialects.binance_orders import check_mode_params, read_order
from hedgectl.sim.dialects.binance_stream import UserDataStreams
from hedgectl.sim.faults import Fault, FaultKind
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import (
    Order,
    Reason,
    SimError,
    TimeInForce,
)

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


class BinanceFamily(BinanceMarketData, BinanceAccountData):
    """Binance USDⓈ-M REST semantics; `versions` says which /fapi/vN serve which endpoint."""

    api_root: ClassVar[str] = "/fapi"
    versions: ClassVar[dict[str, tuple[int, ...]]] = {}
    default_versions: ClassVar[tuple[int, ...]] = (1,)
    # Binance serves the user-data WS under /private/ws?listenKey= as well as /ws/<key>; Aster only the latter.
    stream_split_path: ClassVar[bool] = False
    # The type the real venue uses (recorded replies): Binance sends 200, Aster "200".
    cancel_all_code: ClassVar[int | str] = 200
    # Integer fields the real venue sends as a JSON number in one reply and as a string in another, per endpoint
    # handler: each reply flips a seeded coin, so clients see both representations (see `vary_numbers`).
    varying_numbers: ClassVar[dict[str, frozenset[str]]] = {}

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

    # ---- orders --------------------------------------------------------------------------------

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
        inst = instrument(call)
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
        return json_response(trade_wire.order_json(inst, order, ack=resp_type == "ACK", reply="place"))

    def fetch_order(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        return json_response(trade_wire.order_json(inst, self._find(call, inst)))

    def fetch_open_order(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        order = self._find(call, inst)
        if not order.status.is_open:
            raise SimError(Reason.ORDER_NOT_FOUND, str(order.order_id))
        return json_response(trade_wire.order_json(inst, order))

    def cancel_order(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        order = self._find(call, inst)
        self.engine.cancel_order(self.venue, order_id=order.order_id)
        return json_response(trade_wire.order_json(inst, order, reply="cancel"))

    def cancel_all(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        self.engine.cancel_all(self.venue, inst.symbol)
        return json_response({"code": self.cancel_all_code, "msg": "The operation of cancel all open order is done."})

    def open_orders(self, call: Call) -> web.StreamResponse:
        inst = instrument_or_none(call)
        orders = self.engine.open_orders(self.venue, None if inst is None else inst.symbol)
        return json_response([trade_wire.order_json(self.engine.instrument(self.venue, o.symbol), o) for o in orders])

    def all_orders(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        from_id = call.integer("orderId", required=False) or 0
        start = call.integer("startTime", required=False) or 0
        end = call.integer("endTime", required=False) or 2**62
        orders = [
            o
            for o in self.engine.account(self.venue).all_orders()
            if o.symbol == inst.symbol and o.order_id >= from_id and start <= o.created_ms <= end
        ]
        limit = read_limit(call, 500, 1000)
        return json_response([trade_wire.order_json(inst, o) for o in orders[-limit:]])

    # ---- user data stream: listenKey REST + the private WS (binance_stream.py) ----------------------

    def extra_routes(self) -> list[web.RouteDef]:
        return self.streams.routes()

    def listen_key_new(self, call: Call) -> web.StreamResponse:
        return self.streams.new_key(call)

    def listen_key_keepalive(self, call: Call) -> web.StreamResponse:
        return self.streams.keepalive(call)

    def listen_key_close(self, call: Call) -> web.StreamResponse:
        return self.streams.close_key(call)
