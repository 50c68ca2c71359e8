"""Backpack Exchange (USDC perpetuals) dialect of the simulator, under `/backpack`.

Paths, payloads and `{"code","message"}` errors are Backpack's own (see backpack_wire / backpack_errors).
Like the real venue, GET /api/v1/order only knows orders resting on the book (404 afterwards); the
final state lives in /wapi/v1/history/orders and /wapi/v1/history/fills. ccxt's `backpack` client
works against it with only `urls['api']['public'|'private']` changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from hedgectl.sim import credentials
from hedgectl.sim.core import Simulator
from hedgectl.sim.dialects import backpack_errors, backpack_market, backpack_wire
from hedgectl.sim.dialects.backpack_auth import INSTRUCTIONS, BackpackAuthError, BackpackKey, verify_backpack_request
from hedgectl.sim.dialects.backpack_market import error, now_ms
from hedgectl.sim.dialects.backpack_orders import BackpackRefusal, read_client_id, read_order
from hedgectl.sim.dialects.backpack_stream import BackpackStreams
from hedgectl.sim.dialects.base import Call, Dialect, Problem, Reply, Route, json_response
from hedgectl.sim.faults import Fault, FaultKind
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import Order, Reason, SimError

PUBLIC, SIGNED = "none", "signed"
FILL_TYPES = (
    "User",
    "BookLiquidation",
    "Adl",
    "Backstop",
    "Liquidation",
    "AllLiquidation",
    "CollateralConversion",
    "CollateralConversionAndSpotLiquidation",
)


class BackpackDialect(Dialect):
    venue = "backpack"
    prefix = "/backpack"

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        key = BackpackKey(credentials.BACKPACK_API_KEY, credentials.BACKPACK_API_SECRET)
        self.keys: dict[str, BackpackKey] = {key.api_key: key}

    def routes(self) -> list[Route]:
        get, post, delete = "GET", "POST", "DELETE"
        return [
            Route(get, "/api/v1/time", "fetch_time", backpack_market.time_),
            Route(get, "/api/v1/status", "fetch_status", backpack_market.status),
            Route(get, "/api/v1/ping", "ping", backpack_market.ping),
            Route(get, "/api/v1/assets", "fetch_currencies", backpack_market.assets),
            Route(get, "/api/v1/markets", "fetch_markets", backpack_market.markets),
            Route(get, "/api/v1/market", "fetch_market", backpack_market.market),
            Route(get, "/api/v1/securities", "fetch_markets", backpack_market.securities),
            Route(get, "/api/v1/ticker", "fetch_ticker", backpack_market.ticker),
            Route(get, "/api/v1/tickers", "fetch_tickers", backpack_market.tickers),
            Route(get, "/api/v1/depth", "fetch_order_book", backpack_market.depth),
            Route(get, "/api/v1/trades", "fetch_trades", backpack_market.trades),
            Route(get, "/api/v1/klines", "fetch_ohlcv", backpack_market.klines),
            Route(get, "/api/v1/markPrices", "fetch_funding_rate", backpack_market.mark_prices),
            Route(get, "/api/v1/fundingRates", "fetch_funding_rate_history", backpack_market.funding_rates),
            Route(post, "/api/v1/order", "create_order", self.place_one, SIGNED),
            Route(post, "/api/v1/orders", "create_order", self.place_batch, SIGNED),
            Route(delete, "/api/v1/order", "cancel_order", self.cancel_one, SIGNED),
            Route(delete, "/api/v1/orders", "cancel_order", self.cancel_all, SIGNED),
            Route(get, "/api/v1/order", "fetch_order", self.open_order, SIGNED),
            Route(get, "/api/v1/orders", "fetch_open_orders", self.open_orders, SIGNED),
            Route(get, "/wapi/v1/history/orders", "fetch_order", self.order_history, SIGNED),
            Route(get, "/wapi/v1/history/fills", "fetch_my_trades", self.fill_history, SIGNED),
            Route(get, "/wapi/v1/history/funding", "fetch_funding_history", self.funding_history, SIGNED),
            Route(get, "/api/v1/position", "fetch_positions", self.positions, SIGNED),
            Route(get, "/api/v1/capital", "fetch_balance", self.capital, SIGNED),
            Route(get, "/api/v1/capital/collateral", "fetch_balance", self.collateral, SIGNED),
            Route(get, "/api/v1/account", "fetch_account", self.account, SIGNED),
        ]

    def extra_routes(self) -> list[web.RouteDef]:
        return BackpackStreams(self.sim, self.keys).routes()  # GET /backpack/ws: account.orderUpdate

    # ---- pipeline hooks ------------------------------------------------------------------------

    def authenticate(self, call: Call) -> None:
        if call.route.auth != SIGNED:
            return
        instruction = INSTRUCTIONS[(call.route.method, call.route.path)]
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
        if call.body is not None and call.request.method != "GET":
            params = call.body if isinstance(call.body, list | dict) else {}
        else:
            params = dict(call.request.query)
        try:
            verify_backpack_request(self.keys, call.request.headers, instruction, params, now_ms())
        except BackpackAuthError as exc:
            raise Reply(error((exc.http_status, exc.code, exc.message))) from None

    def client_order_id(self, call: Call) -> str | None:
        if isinstance(call.body, list):
            ids = [str(item["clientId"]) for item in call.body if isinstance(item, dict) and "clientId" in item]
            return ",".join(ids) or None
        return call.get("clientId")

    def render_sim_error(self, err: SimError, call: Call) -> web.StreamResponse:
        return error(backpack_errors.for_sim_error(err, placing=call.route.op == "create_order"))

    def render_problem(self, problem: Problem, detail: str, call: Call | None) -> web.StreamResponse:
        if problem is Problem.MALFORMED_BODY:
            return error(backpack_errors.MALFORMED)
        if problem is Problem.BODY_TOO_LARGE:
            return error(backpack_errors.PAYLOAD_TOO_LARGE)
        if problem is Problem.MISSING_PARAMETER:
            return error(backpack_errors.client_request(f"Missing parameter `{detail}`"))
        if problem is Problem.BAD_PARAMETER:
            return error(backpack_errors.client_request(f"Invalid value for `{detail}`"))
        if problem is Problem.UNKNOWN_ROUTE:
            return error(backpack_errors.NOT_FOUND)
        return error(backpack_errors.SERVER_ERROR)

    def render_fault(self, kind: FaultKind, fault: Fault, call: Call) -> web.StreamResponse:
        if kind is FaultKind.RATE_LIMIT:
            return error(backpack_errors.RATE_LIMITED)
        if kind is FaultKind.HTTP_500:
            return error(backpack_errors.SERVER_ERROR)
        op = call.route.op
        default = {
            "create_order": backpack_errors.INSUFFICIENT_MARGIN,
            "cancel_order": backpack_errors.ORDER_NOT_FOUND,
            "fetch_order": backpack_errors.ORDER_NOT_FOUND,
        }.get(op, backpack_errors.FORBIDDEN)
        return error((default[0], fault.code or default[1], fault.msg or default[2]))

    @property
    def _instruments(self) -> Mapping[str, Instrument]:
        return self.engine.instruments[self.venue]

    def _inst(self, symbol: str) -> Instrument:
        return backpack_market.instrument(self.engine, self.venue, symbol)

    # ---- orders --------------------------------------------------------------------------------

    def _execute(self, call: Call, fields: Any) -> Order:
        symbol = str(fields.get("symbol")) if isinstance(fields, Mapping) else ""
        bid = ask = None
        if symbol in self._instruments:
            book = self.engine.book(self.venue, symbol)
            bid, ask = book.best_bid, book.best_ask
        return call.place_order(read_order(fields, self._instruments, bid, ask))

    def place_one(self, call: Call) -> web.StreamResponse:
        if not isinstance(call.body, dict):
            return error(backpack_errors.MALFORMED)
        try:
            order = self._execute(call, call.body)
        except BackpackRefusal as exc:
            return error(exc.error)
        return json_response(backpack_wire.render_order(order))

    def place_batch(self, call: Call) -> web.StreamResponse:
        if not isinstance(call.body, list) or not call.body:
            return error(backpack_errors.MALFORMED)
        results: list[dict[str, Any]] = []
        for fields in call.body:
            try:
                results.append(backpack_wire.render_order(self._execute(call, fields)))
            except BackpackRefusal as exc:
                results.append({"code": exc.error[1], "message": exc.error[2], "operation": "orderExecute"})
            except SimError as err:
                _, code, message = backpack_errors.for_sim_error(err, placing=True)
                results.append({"code": code, "message": message, "operation": "orderExecute"})
        return json_response(results)

    def _lookup(self, call: Call) -> tuple[Instrument, int | None, str | None]:
        inst = self._inst(call.require("symbol"))
        order_id = call.get("orderId")
        try:
            client_id = read_client_id(call.get("clientId"))
        except BackpackRefusal as exc:
            raise Reply(error(exc.error)) from None
        if (order_id is None) == (client_id is None):
            raise Reply(error(backpack_errors.client_request("Specify exactly one of `orderId` or `clientId`")))
        if order_id is not None and not order_id.isdigit():
            raise SimError(Reason.ORDER_NOT_FOUND, order_id)
        return inst, None if order_id is None else int(order_id), None if client_id is None else str(client_id)

    def _open_order(self, call: Call) -> Order:
        """The resting order a request names; Backpack knows no other (404 RESOURCE_NOT_FOUND)."""
        inst, order_id, client_id = self._lookup(call)
        for order in self.engine.open_orders(self.venue, inst.symbol):
            if (order_id is not None and order.order_id == order_id) or (
                client_id is not None and order.client_order_id == client_id
            ):
                return order
        raise SimError(Reason.ORDER_NOT_FOUND, str(order_id or client_id))

    def cancel_one(self, call: Call) -> web.StreamResponse:
        order = self._open_order(call)
        cancelled = self.engine.cancel_order(self.venue, order_id=order.order_id)
        return json_response(backpack_wire.render_order(cancelled))

    def cancel_all(self, call: Call) -> web.StreamResponse:
        inst = self._inst(call.require("symbol"))
        order_type = call.get("orderType")
        if order_type not in (None, "RestingLimitOrder", "ConditionalOrder"):
            return error(backpack_errors.client_request("Invalid value for `orderType`"))
        cancelled = [] if order_type == "ConditionalOrder" else self.engine.cancel_all(self.venue, inst.symbol)
        return json_response([backpack_wire.render_order(order) for order in cancelled])

    def open_order(self, call: Call) -> web.StreamResponse:
        return json_response(backpack_wire.render_order(self._open_order(call)))

    def open_orders(self, call: Call) -> web.StreamResponse:
        symbol = call.get("symbol")
        if symbol is not None:
            self._inst(symbol)
        orders = sorted(self.engine.open_orders(self.venue, symbol), key=lambda o: o.order_id)
        return json_response([backpack_wire.render_order(order) for order in orders])

    def _page(self, call: Call, rows: Sequence[Any], default_limit: int, max_limit: int) -> list[Any]:
        limit = min(call.integer("limit", required=False) or default_limit, max_limit)
        offset = call.integer("offset", required=False) or 0
        direction = call.get("sortDirection", "Desc")
        if direction not in ("Asc", "Desc"):
            raise Reply(error(backpack_errors.client_request("Invalid value for `sortDirection`")))
        ordered = list(rows) if direction == "Asc" else list(reversed(rows))
        return ordered[offset : offset + limit]

    def order_history(self, call: Call) -> web.StreamResponse:
        symbol = call.get("symbol")
        if symbol is not None:
            self._inst(symbol)
        order_id = call.get("orderId")
        closed = sorted(self.engine.account(self.venue).closed_orders.values(), key=lambda o: o.order_id)
        rows = [
            order
            for order in closed
            if (symbol is None or order.symbol == symbol) and (order_id is None or str(order.order_id) == order_id)
        ]
        page = self._page(call, rows, 100, 1000)
        return json_response([backpack_wire.render_history_order(order) for order in page])

    def fill_history(self, call: Call) -> web.StreamResponse:
        symbol = call.get("symbol")
        if symbol is not None:
            self._inst(symbol)
        fill_type = call.get("fillType")
        if fill_type is not None and fill_type not in FILL_TYPES:
            return error(backpack_errors.client_request("Invalid value for `fillType`"))
        if fill_type is not None and fill_type != "User":  # the simulator makes no liquidation/system fills
            return json_response([])
        order_id = call.get("orderId")
        since = call.integer("from", required=False)
        until = call.integer("to", required=False)
        rows = [
            fill
            for fill in self.engine.fills(self.venue, symbol)
            if (order_id is None or str(fill.order_id) == order_id)
            and (since is None or fill.time_ms >= since)
            and (until is None or fill.time_ms <= until)
        ]
        return json_response([backpack_wire.render_fill(fill) for fill in self._page(call, rows, 100, 1000)])

    def funding_history(self, call: Call) -> web.StreamResponse:
        symbol = call.get("symbol")
        if symbol is not None:
            self._inst(symbol)
        payments = [p for p in self.engine.account(self.venue).funding if symbol is None or p.symbol == symbol]
        page = self._page(call, payments, 100, 1000)
        return json_response([backpack_wire.render_funding_payment(payment) for payment in page])

    # ---- account -------------------------------------------------------------------------------

    def positions(self, call: Call) -> web.StreamResponse:
        symbol = call.get("symbol")
        if symbol is not None:
            self._inst(symbol)
        rows = []
        for pos in self.engine.positions(self.venue):
            if symbol is not None and pos.symbol != symbol:
                continue
            inst = self._instruments[pos.symbol]
            mark = self.engine.mark_price(self.venue, pos.symbol)
            resting = self.engine.open_orders(self.venue, pos.symbol)
            rows.append(
                backpack_wire.render_position(pos, inst, mark, resting, self.engine.liquidation_price(self.venue, pos))
            )
        return json_response(rows)

    def capital(self, call: Call) -> web.StreamResponse:
        acct = self.engine.account(self.venue)
        view = self.engine.margin(self.venue)
        return json_response(backpack_wire.render_capital(acct.asset, view.balance, view.order_margin))

    def collateral(self, call: Call) -> web.StreamResponse:
        acct = self.engine.account(self.venue)
        view = self.engine.margin(self.venue)
        exposure = self._exposure_notional()
        return json_response(
            backpack_wire.render_collateral(
                acct.asset, view.balance, view.unrealized_pnl, view.position_margin, view.order_margin, exposure
            )
        )

    def _exposure_notional(self) -> Decimal:
        marks = ((pos.qty, self.engine.mark_price(self.venue, pos.symbol)) for pos in self.engine.positions(self.venue))
        return sum((abs(qty) * mark for qty, mark in marks), Decimal(0))

    def account(self, call: Call) -> web.StreamResponse:
        inst = next(iter(self._instruments.values()))
        leverage = self.engine.account(self.venue).leverage
        return json_response(
            {
                "autoBorrowSettlements": True,
                "autoLend": False,
                "autoRealizePnl": True,
                "autoRepayBorrows": True,
                "borrowLimit": "0",
                "futuresMakerFee": _bps(inst.maker_fee),
                "futuresTakerFee": _bps(inst.taker_fee),
                "leverageLimit": str(leverage),
                "limitOrders": 1000,
                "liquidating": False,
                "positionLimit": "1000000",
                "spotMakerFee": "8",
                "spotTakerFee": "10",
                "triggerOrders": 0,
            }
        )


def _bps(rate: Decimal) -> str:
    """A fee fraction in basis points as Backpack writes its tiers: `"5"` (0.05 %), `"3.5"`, never truncated."""
    bps = (rate * 10_000).normalize()
    return format(bps, "f") if bps else "0"
