"""OKX v5 (USDT-margined SWAP) dialect of the simulator, under `/okx`.

Paths, parameters, envelopes and error codes are OKX's own (see okx_wire / okx_errors); sizes on the
wire are contracts. ccxt's `okx` client works against it with only `urls['api']['rest']` changed.
This module routes, authenticates and answers orders; public market data is `okx_market.py`'s, the
account endpoints `okx_account.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from hedgectl.sim import credentials
from hedgectl.sim.core import Simulator
from hedgectl.sim.dialects import okx_account, okx_errors, okx_market, okx_trade_wire, okx_wire
from hedgectl.sim.dialects.base import Call, Dialect, Problem, Reply, Route
from hedgectl.sim.dialects.okx_auth import OkxAuthError, OkxKey, verify_okx_request
from hedgectl.sim.dialects.okx_market import INST_TYPES, fail, now_ms, ok
from hedgectl.sim.dialects.okx_orders import OkxRefusal, read_place_order
from hedgectl.sim.dialects.okx_stream import OkxPrivateStream
from hedgectl.sim.faults import Fault, FaultKind
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import Fill, Order, Reason, SimError

API = "/api/v5"
MAX_BATCH = 20
PUBLIC, SIGNED = "none", "signed"


class OkxDialect(Dialect):
    venue = "okx"
    prefix = "/okx"

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        key = OkxKey(credentials.OKX_API_KEY, credentials.OKX_API_SECRET, credentials.OKX_PASSPHRASE)
        self.keys: dict[str, OkxKey] = {key.api_key: key}
        self.streams = OkxPrivateStream(self, self.keys)

    def routes(self) -> list[Route]:
        get, post = "GET", "POST"
        return [
            Route(get, API + "/public/time", "fetch_time", okx_market.time_),
            Route(get, API + "/public/instruments", "fetch_markets", okx_market.instruments),
            Route(get, API + "/market/ticker", "fetch_ticker", okx_market.ticker),
            Route(get, API + "/market/tickers", "fetch_tickers", okx_market.tickers),
            Route(get, API + "/market/books", "fetch_order_book", okx_market.books),
            Route(get, API + "/market/trades", "fetch_trades", okx_market.trades),
            Route(get, API + "/market/candles", "fetch_ohlcv", okx_market.candles),
            Route(get, API + "/public/mark-price", "fetch_mark_price", okx_market.mark_price),
            Route(get, API + "/public/funding-rate", "fetch_funding_rate", okx_market.funding_rate),
            Route(post, API + "/trade/order", "create_order", self.place_one, SIGNED),
            Route(post, API + "/trade/batch-orders", "create_order", self.place_batch, SIGNED),
            Route(get, API + "/trade/order", "fetch_order", self.order_detail, SIGNED),
            Route(post, API + "/trade/cancel-order", "cancel_order", self.cancel_one, SIGNED),
            Route(post, API + "/trade/cancel-batch-orders", "cancel_order", self.cancel_batch, SIGNED),
            Route(get, API + "/trade/orders-pending", "fetch_open_orders", self.orders_pending, SIGNED),
            Route(get, API + "/trade/orders-history", "fetch_orders", self.orders_history, SIGNED),
            Route(get, API + "/trade/orders-history-archive", "fetch_orders", self.orders_history, SIGNED),
            Route(get, API + "/trade/fills", "fetch_my_trades", self.fills, SIGNED),
            Route(get, API + "/trade/fills-history", "fetch_my_trades", self.fills, SIGNED),
            Route(get, API + "/account/positions", "fetch_positions", okx_account.positions, SIGNED),
            Route(get, API + "/account/balance", "fetch_balance", okx_account.balance, SIGNED),
            Route(get, API + "/account/bills", "fetch_funding_history", okx_account.bills, SIGNED),
            Route(get, API + "/account/bills-archive", "fetch_funding_history", okx_account.bills_archive, SIGNED),
            Route(get, API + "/account/config", "fetch_account", okx_account.config, SIGNED),
            Route(get, API + "/account/trade-fee", "fetch_trading_fee", okx_account.trade_fee, SIGNED),
            Route(post, API + "/account/set-leverage", "set_leverage", okx_account.set_leverage, SIGNED),
            Route(get, API + "/account/leverage-info", "fetch_leverage", okx_account.leverage_info, SIGNED),
            Route(get, API + "/asset/currencies", "fetch_currencies", okx_account.currencies, SIGNED),
        ]

    def extra_routes(self) -> list[web.RouteDef]:
        """WS /okx/ws/v5/private (okx_stream.py)."""
        return self.streams.routes()

    # ---- pipeline hooks ------------------------------------------------------------------------

    def authenticate(self, call: Call) -> None:
        if call.route.auth != SIGNED:
            return
        request_path = call.request.raw_path.removeprefix(self.prefix)
        body = call.raw_body.decode("utf-8", errors="replace")
        try:
            verify_okx_request(self.keys, call.request.headers, call.request.method, request_path, body, now_ms())
        except OkxAuthError as exc:
            raise Reply(fail(exc.code, exc.msg, exc.http_status)) from None

    def client_order_id(self, call: Call) -> str | None:
        if isinstance(call.body, list):
            ids = [str(item.get("clOrdId")) for item in call.body if isinstance(item, dict) and item.get("clOrdId")]
            return ",".join(ids) or None
        return call.get("clOrdId")

    def render_sim_error(self, err: SimError, call: Call) -> web.StreamResponse:
        if err.reason is Reason.UNKNOWN_SYMBOL:
            return fail(*okx_errors.UNKNOWN_INSTRUMENT, status=400)
        if err.reason in (Reason.ORDER_NOT_FOUND, Reason.ORDER_NOT_OPEN):
            return fail(*okx_errors.ORDER_NOT_EXIST)
        code, msg = okx_errors.place_error(err)
        return fail(code, msg, status=400)

    def render_problem(self, problem: Problem, detail: str, call: Call | None) -> web.StreamResponse:
        if problem is Problem.MALFORMED_BODY:
            return fail(*okx_errors.JSON_FORMAT, status=400)
        if problem is Problem.BODY_TOO_LARGE:
            return fail("51000", "Parameter body error", status=413)
        if problem is Problem.MISSING_PARAMETER:
            return fail(*okx_errors.param_empty(detail), status=400)
        if problem is Problem.BAD_PARAMETER:
            return fail(*okx_errors.param_error(detail), status=400)
        if problem is Problem.UNKNOWN_ROUTE:
            return fail("404", "Not Found", status=404)
        return fail(*okx_errors.SYSTEM_ERROR, status=500)

    def render_fault(self, kind: FaultKind, fault: Fault, call: Call) -> web.StreamResponse:
        if kind is FaultKind.RATE_LIMIT:
            return fail(*okx_errors.RATE_LIMITED, status=429)
        if kind is FaultKind.HTTP_500:
            return fail(*okx_errors.SYSTEM_ERROR, status=500)
        op = call.route.op
        if op in ("create_order", "cancel_order"):
            default = okx_errors.INSUFFICIENT_MARGIN if op == "create_order" else okx_errors.CANCEL_NOT_EXIST
            s_code, s_msg = fault.code or default[0], fault.msg or default[1]
            entries = [self._echo(item, "", s_code, s_msg) for item in self._order_items(call)]
            return ok(entries, "1", "")
        default = okx_errors.ORDER_NOT_EXIST if op == "fetch_order" else okx_errors.SYSTEM_BUSY
        return fail(fault.code or default[0], fault.msg or default[1])

    @property
    def _instruments(self) -> Mapping[str, Instrument]:
        return self.engine.instruments[self.venue]

    def _inst(self, call: Call) -> Instrument:
        return okx_market.instrument(call)

    # ---- orders --------------------------------------------------------------------------------

    @staticmethod
    def _order_items(call: Call) -> list[Mapping[str, Any]]:
        if isinstance(call.body, list):
            return [item for item in call.body if isinstance(item, Mapping)]
        if isinstance(call.body, Mapping):
            return [call.body]
        return [call.params]

    @staticmethod
    def _echo(item: Mapping[str, Any], order_id: str, s_code: str, s_msg: str) -> dict[str, Any]:
        return okx_wire.order_result(
            order_id, str(item.get("clOrdId") or ""), str(item.get("tag") or ""), now_ms(), s_code, s_msg
        )

    def _place(self, call: Call, item: Mapping[str, Any]) -> dict[str, Any]:
        """Place one order object; return its reply entry (sCode "0" or OKX's refusal code)."""
        try:
            parsed = read_place_order(item, self._instruments)
        except OkxRefusal as exc:
            if exc.request_level:
                raise
            return self._echo(item, "", exc.code, exc.msg)
        if parsed.request is None:
            return self._echo(item, "", *okx_errors.UNKNOWN_INSTRUMENT)
        try:
            order = call.place_order(parsed.request)
        except SimError as err:
            return self._echo(item, "", *okx_errors.place_error(err))
        return self._echo(item, str(order.order_id), "0", "Order placed")

    def _place_all(self, call: Call, items: list[Mapping[str, Any]]) -> web.StreamResponse:
        try:
            entries = [self._place(call, item) for item in items]
        except OkxRefusal as exc:
            return fail(exc.code, exc.msg, status=400)
        failed = sum(1 for entry in entries if entry["sCode"] != "0")
        if failed == 0:
            return ok(entries)
        if failed == len(entries):
            code, msg = okx_errors.ALL_FAILED if len(entries) > 1 else okx_errors.OPERATION_FAILED
            return ok(entries, code, msg)
        return ok(entries, *okx_errors.PARTIALLY_SUCCEEDED)

    def place_one(self, call: Call) -> web.StreamResponse:
        if not isinstance(call.body, Mapping):
            return fail(*(okx_errors.BODY_EMPTY if call.body is None else okx_errors.JSON_FORMAT), status=400)
        return self._place_all(call, [call.body])

    def place_batch(self, call: Call) -> web.StreamResponse:
        items = call.body if isinstance(call.body, list) else None
        if not items or not all(isinstance(item, Mapping) for item in items):
            return fail(*(okx_errors.BODY_EMPTY if not items else okx_errors.JSON_FORMAT), status=400)
        if len(items) > MAX_BATCH:
            return fail(*okx_errors.TOO_MANY_IN_BATCH, status=400)
        return self._place_all(call, items)

    def _find(self, inst: Instrument, fields: Mapping[str, Any]) -> Order:
        """The order an ordId/clOrdId names on `inst`; SimError(ORDER_NOT_FOUND) otherwise."""
        ord_id = str(fields.get("ordId") or "")
        cl_ord_id = str(fields.get("clOrdId") or "")
        if not ord_id and not cl_ord_id:
            raise OkxRefusal(*okx_errors.ID_REQUIRED, request_level=True)
        if ord_id:
            order = self.engine.get_order(self.venue, order_id=int(ord_id)) if ord_id.isdigit() else None
        else:
            order = self.engine.get_order(self.venue, client_order_id=cl_ord_id)
        if order is None or order.symbol != inst.symbol:
            raise SimError(Reason.ORDER_NOT_FOUND, ord_id or cl_ord_id)
        return order

    def order_detail(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call)
        try:
            order = self._find(inst, call.params)
        except OkxRefusal as exc:
            return fail(exc.code, exc.msg, status=400)
        return ok([self._render_order(order, inst)])

    def _cancel(self, item: Mapping[str, Any]) -> dict[str, Any]:
        entry = self._cancel_entry(item)
        entry.pop("tag", None)  # a cancel's reply entry has no tag (the place reply's has)
        return entry

    def _cancel_entry(self, item: Mapping[str, Any]) -> dict[str, Any]:
        inst = self._instruments.get(str(item.get("instId") or ""))
        if inst is None:
            if not item.get("instId"):
                raise OkxRefusal(*okx_errors.param_empty("instId"), request_level=True)
            return self._echo(item, str(item.get("ordId") or ""), *okx_errors.UNKNOWN_INSTRUMENT)
        try:
            order = self._find(inst, item)
            self.engine.cancel_order(self.venue, order_id=order.order_id)
        except SimError as err:
            return self._echo(item, str(item.get("ordId") or ""), *okx_errors.cancel_error(err))
        entry = self._echo(item, str(order.order_id), "0", "")
        entry["clOrdId"] = order.client_order_id or ""
        return entry

    def _cancel_all(self, items: list[Mapping[str, Any]]) -> web.StreamResponse:
        try:
            entries = [self._cancel(item) for item in items]
        except OkxRefusal as exc:
            return fail(exc.code, exc.msg, status=400)
        failed = sum(1 for entry in entries if entry["sCode"] != "0")
        if failed == 0:
            return ok(entries)
        if failed == len(entries):
            return ok(entries, *(okx_errors.ALL_FAILED if len(entries) > 1 else ("1", "")))
        return ok(entries, *okx_errors.PARTIALLY_SUCCEEDED)

    def cancel_one(self, call: Call) -> web.StreamResponse:
        if not isinstance(call.body, Mapping):
            return fail(*(okx_errors.BODY_EMPTY if call.body is None else okx_errors.JSON_FORMAT), status=400)
        return self._cancel_all([call.body])

    def cancel_batch(self, call: Call) -> web.StreamResponse:
        items = call.body if isinstance(call.body, list) else None
        if not items or not all(isinstance(item, Mapping) for item in items):
            return fail(*(okx_errors.BODY_EMPTY if not items else okx_errors.JSON_FORMAT), status=400)
        if len(items) > MAX_BATCH:
            return fail("51111", "Maximum 20 orders can be canceled in bulk.", status=400)
        return self._cancel_all(items)

    def _render_order(self, order: Order, inst: Instrument, last_fill: Fill | None = None) -> dict[str, Any]:
        if last_fill is None and order.filled_qty > 0:
            last_fill = next(iter(reversed(self.engine.fills(self.venue, order_id=order.order_id))), None)
        lever = self.engine.account(self.venue).leverage
        return okx_trade_wire.render_order(order, inst, lever, last_fill)

    def _listed(self, call: Call, orders: Iterable[Order]) -> web.StreamResponse:
        """orders-pending / orders-history: newest first, filtered, at most `limit` (<= 100)."""
        inst_type = call.get("instType")
        if inst_type is not None and inst_type not in INST_TYPES:
            return ok([])
        inst_id = call.get("instId")
        if inst_id is not None:
            self._inst(call)
        ord_type = call.get("ordType")
        state = call.get("state")
        limit = min(call.integer("limit", required=False) or 100, 100)
        chosen = [
            order
            for order in sorted(orders, key=lambda o: o.order_id, reverse=True)
            if (inst_id is None or order.symbol == inst_id)
            and (ord_type is None or okx_trade_wire.ord_type(order) == ord_type)
            and (state is None or okx_trade_wire.order_state(order) == state)
        ][:limit]
        wanted = {order.order_id for order in chosen if order.filled_qty > 0}
        last_fills = {fill.order_id: fill for fill in self.engine.fills(self.venue) if fill.order_id in wanted}
        return ok([self._render_order(o, self._instruments[o.symbol], last_fills.get(o.order_id)) for o in chosen])

    def orders_pending(self, call: Call) -> web.StreamResponse:
        return self._listed(call, self.engine.open_orders(self.venue))

    def orders_history(self, call: Call) -> web.StreamResponse:
        call.require("instType")
        closed = self.engine.account(self.venue).closed_orders.values()
        return self._listed(call, list(closed))

    def fills(self, call: Call) -> web.StreamResponse:
        inst_type = call.get("instType")
        if inst_type is not None and inst_type not in INST_TYPES:
            return ok([])
        inst_id = call.get("instId")
        if inst_id is not None:
            self._inst(call)
        ord_id = call.get("ordId")
        begin = call.integer("begin", required=False)
        end = call.integer("end", required=False)
        limit = min(call.integer("limit", required=False) or 100, 100)
        rows = [
            okx_trade_wire.render_fill(fill, self._instruments[fill.symbol])
            for fill in reversed(self.engine.fills(self.venue, symbol=inst_id))
            if (ord_id is None or str(fill.order_id) == ord_id)
            and (begin is None or fill.time_ms >= begin)
            and (end is None or fill.time_ms <= end)
        ]
        return ok(rows[:limit])
