"""The /_sim/ control API: JSON endpoints for tests, benchmarks and curious users (see DIALECTS.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from hedgectl.sim.core import Simulator
from hedgectl.sim.dialects.base import json_response
from hedgectl.sim.faults import OPS, FaultSpecError, parse_fault
from hedgectl.sim.instruments import BASES, VENUES, Instrument
from hedgectl.sim.model import PositionMode, SimError
from hedgectl.sim.stream_hub import hub_of

PREFIX = "/_sim"
HEDGE_MODE_VENUES = ("binance", "okx", "aster")
ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(Exception):
    """A bad control request; answered 400 {"ok": false, "error": ...}."""


def _decimal(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ControlError(f"{name} must be a decimal") from None
    if not value.is_finite():
        raise ControlError(f"{name} must be a decimal")
    return value


def _venue(raw: Any) -> str:
    if raw not in VENUES:
        raise ControlError(f"venue must be one of {', '.join(VENUES)}")
    return str(raw)


def _opt_venue(raw: Any) -> str | None:
    return None if raw is None else _venue(raw)


class Control:
    """Handlers of /_sim/*, bound to one Simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def mount(self, app: web.Application) -> None:
        routes: list[tuple[str, str, ControlHandler]] = [
            ("GET", "/health", self.health),
            ("POST", "/reset", self.reset),
            ("GET", "/state", self.state),
            ("POST", "/price", self.price),
            ("POST", "/latency", self.latency),
            ("GET", "/faults", self.list_faults),
            ("POST", "/faults", self.add_fault),
            ("DELETE", "/faults", self.clear_faults),
            ("POST", "/fill", self.fill),
            ("POST", "/funding", self.funding),
            ("POST", "/account", self.account),
            ("GET", "/requests", self.requests),
            ("POST", "/requests/clear", self.clear_requests),
            ("DELETE", "/requests", self.clear_requests),
            ("GET", "/market", self.market),
            ("GET", "/clock", self.clock),
            ("POST", "/clock", self.set_clock),
            ("POST", "/save", self.save),
            ("GET", "/streams", self.streams),
            ("POST", "/streams", self.set_streams),
            ("POST", "/streams/drop", self.drop_streams),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, self._guard(handler))

    @staticmethod
    def _guard(handler: ControlHandler) -> ControlHandler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ControlError as exc:
                return json_response({"ok": False, "error": str(exc)}, status=400)
            except SimError as exc:
                return json_response({"ok": False, "error": str(exc)}, status=400)

        return guarded

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.content.read(64 * 1024 + 1)
        if len(raw) > 64 * 1024:
            raise ControlError("body too large")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ControlError("body must be JSON") from None
        if not isinstance(body, dict):
            raise ControlError("body must be a JSON object")
        return body

    def _instrument(self, venue: str, symbol: Any) -> Instrument:
        """Accept a canonical base ("BTC") or the venue's own symbol ("BTC-USDT-SWAP")."""
        if symbol in BASES:
            return self.sim.engine.instrument_for_base(venue, str(symbol))
        inst = self.sim.engine.instruments[venue].get(str(symbol))
        if inst is None:
            raise ControlError(f"unknown symbol {symbol!r} on {venue}")
        return inst

    async def health(self, request: web.Request) -> web.StreamResponse:
        return json_response({"ok": True})

    async def reset(self, request: web.Request) -> web.StreamResponse:
        self.sim.reset()
        return json_response({"ok": True})

    async def state(self, request: web.Request) -> web.StreamResponse:
        engine = self.sim.engine
        venues: dict[str, Any] = {}
        for venue in VENUES:
            acct = engine.account(venue)
            margin = engine.margin(venue)
            positions = []
            for pos in engine.positions(venue):
                inst = engine.instrument(venue, pos.symbol)
                positions.append(
                    {
                        "symbol": pos.symbol,
                        "base": pos.base,
                        "qty": str(pos.qty),
                        "venue_qty": str(pos.qty / inst.contract_value),
                        "entry_price": str(pos.entry_price),
                        "mark_price": str(engine.mark_price(venue, pos.symbol)),
                        "realized_pnl": str(pos.realized_pnl),
                        "position_side": pos.side.value,
                    }
                )
            venues[venue] = {
                "positions": positions,
                "open_orders": [o.to_json() for o in engine.open_orders(venue)],
                "balances": {acct.asset: str(acct.balance)},
                "equity": str(margin.equity),
                "available": str(margin.available),
                "fees_paid": str(acct.fees_paid),
                "funding": [f.to_json() for f in acct.funding],
                "position_mode": acct.position_mode.value,
                "leverage": acct.leverage,
            }
        return json_response({"venues": venues})

    async def account(self, request: web.Request) -> web.StreamResponse:
        """POST /_sim/account {"venue", "position_mode": "one_way"|"hedge"}: the account's position mode.

        Binance and Aster call hedge mode dualSidePosition, OKX long_short_mode; Backpack has none. The switch
        is refused while the venue holds positions or open orders, as the venues refuse it.
        """
        body = await self._body(request)
        venue = _venue(body.get("venue"))
        raw = body.get("position_mode")
        if raw not in ("one_way", "hedge"):
            raise ControlError("position_mode must be one_way or hedge")
        mode = PositionMode(raw)
        if venue not in HEDGE_MODE_VENUES and mode is PositionMode.HEDGE:
            raise ControlError(f"{venue} has no hedge position mode")
        self.sim.engine.set_position_mode(venue, mode)
        return json_response({"ok": True, "venue": venue, "position_mode": mode.value})

    async def price(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        venue = _opt_venue(body.get("venue"))
        price = _decimal(body.get("price"), "price")
        symbol = body.get("symbol")
        base = symbol if symbol in BASES else self._instrument(venue, symbol).base if venue else None
        if base is None:
            raise ControlError(f"symbol must be one of {', '.join(BASES)}")
        self.sim.engine.set_price(str(base), price, venue)
        mids = {
            v: str(self.sim.engine.mark_price(v, self.sim.engine.instrument_for_base(v, str(base)).symbol))
            for v in VENUES
        }
        return json_response({"ok": True, "mids": mids})

    async def latency(self, request: web.Request) -> web.StreamResponse:
        """POST /_sim/latency {"venue", "ms", "op"?}: delay the venue's replies; with `op`, that operation's only."""
        body = await self._body(request)
        venue = _venue(body.get("venue"))
        try:
            ms = int(body.get("ms", 0))
        except (TypeError, ValueError):
            raise ControlError("ms must be an integer") from None
        if ms < 0:
            raise ControlError("ms must be >= 0")
        op = body.get("op")
        if op is None:
            self.sim.latency_ms[venue] = ms
        elif not isinstance(op, str) or op not in OPS or op == "any":
            raise ControlError(f"op must be one of {', '.join(sorted(OPS - {'any'}))}")
        elif ms:
            self.sim.op_latency_ms[(venue, op)] = ms
        else:
            self.sim.op_latency_ms.pop((venue, op), None)
        ops = {f"{v}:{o}": d for (v, o), d in sorted(self.sim.op_latency_ms.items())}
        return json_response({"ok": True, "latency_ms": dict(self.sim.latency_ms), "op_latency_ms": ops})

    async def list_faults(self, request: web.Request) -> web.StreamResponse:
        return json_response({"faults": [f.to_json() for f in self.sim.faults.armed()]})

    async def add_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            fault = parse_fault(await self._body(request))
        except FaultSpecError as exc:
            raise ControlError(str(exc)) from None
        self.sim.faults.add(fault)
        return json_response({"ok": True, "fault": fault.to_json()})

    async def clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.sim.faults.clear()
        return json_response({"ok": True})

    async def fill(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        venue = _venue(body.get("venue"))
        ratio = _decimal(body.get("ratio", "1"), "ratio")
        if not 0 < ratio <= 1:
            raise ControlError("ratio must be in (0, 1]")
        order_id = body.get("order_id")
        client_order_id = body.get("client_order_id")
        all_orders = body.get("all") is True
        if not all_orders and order_id is None and client_order_id is None:
            raise ControlError('give "order_id", "client_order_id" or "all": true')
        try:
            oid = None if order_id is None else int(str(order_id))
        except ValueError:
            raise ControlError("order_id must be an integer") from None
        fills = self.sim.engine.force_fill(
            venue,
            order_id=oid,
            client_order_id=None if client_order_id is None else str(client_order_id),
            all_orders=all_orders,
            ratio=ratio,
        )
        # Let the private-stream pumps write the fills' events before this answer is built and written:
        # a venue pushes an execution as it happens, not after it has finished answering someone else.
        await asyncio.sleep(0)
        return json_response({"ok": True, "fills": [f.to_json() for f in fills]})

    async def funding(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        venue = _venue(body.get("venue"))
        inst = self._instrument(venue, body.get("symbol"))
        rate = _decimal(body.get("rate"), "rate")
        next_ms_raw = body.get("next_funding_ms")
        try:
            next_ms = None if next_ms_raw is None else int(next_ms_raw)
        except (TypeError, ValueError):
            raise ControlError("next_funding_ms must be an integer") from None
        balance_before = self.sim.engine.account(venue).balance
        self.sim.engine.set_funding(venue, inst.symbol, rate, next_ms)
        state = self.sim.engine.funding_state(venue, inst.symbol)
        settled = self.sim.engine.account(venue).balance - balance_before
        return json_response(
            {
                "ok": True,
                "rate": str(state.rate),
                "next_funding_ms": state.next_ms,
                "settled": f"{settled.normalize():f}",
            }
        )

    async def requests(self, request: web.Request) -> web.StreamResponse:
        venue = request.query.get("venue")
        try:
            since_ns = int(request.query.get("since_ns", "0"))
        except ValueError:
            raise ControlError("since_ns must be an integer") from None
        return json_response([r.to_json() for r in self.sim.requests.select(venue, since_ns)])

    async def clear_requests(self, request: web.Request) -> web.StreamResponse:
        self.sim.requests.clear()
        return json_response({"ok": True})

    async def market(self, request: web.Request) -> web.StreamResponse:
        """GET /_sim/market: which market source drives the prices (synthetic, replay, live) and its details."""
        engine = self.sim.engine
        engine.sync()
        body: dict[str, Any] = {"label": self.sim.market_label, **engine.prices.describe()}
        time_ms = getattr(engine.prices, "time_ms", None)
        if time_ms is not None:
            body["replay_ms"] = time_ms(engine.clock.tick)
            body["finished"] = bool(engine.prices.finished(engine.clock.tick))  # type: ignore[union-attr]
        return json_response(body)

    async def clock(self, request: web.Request) -> web.StreamResponse:
        self.sim.engine.sync()
        return json_response(self.sim.engine.clock.to_json())

    async def set_clock(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        clock = self.sim.engine.clock
        self.sim.engine.sync()
        frozen = body.get("frozen")
        if frozen is True:
            clock.freeze()
        elif frozen is False:
            clock.unfreeze()
        elif frozen is not None:
            raise ControlError("frozen must be true or false")
        try:
            step = int(body.get("step", 0))
        except (TypeError, ValueError):
            raise ControlError("step must be an integer") from None
        if step < 0:
            raise ControlError("step must be >= 0")
        clock.step(step)
        self.sim.engine.sync()
        return json_response(clock.to_json())

    async def save(self, request: web.Request) -> web.StreamResponse:
        if self.sim.state_path is None:
            raise ControlError("no state path configured")
        self.sim.save()
        return json_response({"ok": True})

    async def streams(self, request: web.Request) -> web.StreamResponse:
        hub = hub_of(self.sim)
        return json_response({v: {"live": hub.count(v), "refused": hub.refusing(v)} for v in VENUES})

    async def set_streams(self, request: web.Request) -> web.StreamResponse:
        """{"venue", "refuse": bool}: refuse new private WebSocket connections (until set back to false)."""
        body = await self._body(request)
        venue = _venue(body.get("venue"))
        refuse = body.get("refuse")
        if not isinstance(refuse, bool):
            raise ControlError("refuse must be true or false")
        hub_of(self.sim).refuse(venue, refuse)
        return json_response({"ok": True, "venue": venue, "refused": refuse})

    async def drop_streams(self, request: web.Request) -> web.StreamResponse:
        """{"venue"}: cut every live private WebSocket of the venue now (in-flight events are lost)."""
        venue = _venue((await self._body(request)).get("venue"))
        return json_response({"ok": True, "dropped": hub_of(self.sim).drop(venue)})
