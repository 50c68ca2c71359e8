"""The Binance family's account endpoints (signed): trades, income, leverage, margin type, position mode,
positionRisk, account and balance, as methods of the dialect (`binance_family.ENDPOINTS` names them).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects import binance_trade_wire as trade_wire
from hedgectl.sim.dialects import binance_wire as wire
from hedgectl.sim.dialects.base import Call, Dialect, Reply, json_response
from hedgectl.sim.dialects.binance_market import instrument, instrument_or_none, read_limit
from hedgectl.sim.model import PositionMode, PosSide, SimError

INCOME_DEFAULT_WINDOW_MS = 7 * 24 * 3_600_000  # income without startTime/endTime: the last 7 days


def version_of(path: str) -> int:
    """The API version in a path like /fapi/v3/order (0 when absent)."""
    match = re.search(r"/v(\d+)/", path)
    return int(match.group(1)) if match else 0


class BinanceAccountData(Dialect):
    """Binance USDⓈ-M account endpoints; `position_risk_v3_from` says which version has v3's positionRisk."""

    # From which version positionRisk lists only symbols with a position and drops leverage/marginType
    # (Binance v3; Aster's v3 still has every row and both fields, as its v3 docs example shows).
    position_risk_v3_from: ClassVar[int] = 3

    def user_trades(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        order_id = call.integer("orderId", required=False)
        from_id = call.integer("fromId", required=False) or 0
        start = call.integer("startTime", required=False) or 0
        end = call.integer("endTime", required=False) or 2**62
        fills = [
            f
            for f in self.engine.fills(self.venue, inst.symbol, order_id)
            if f.fill_id >= from_id and start <= f.time_ms <= end
        ]
        limit = read_limit(call, 500, 1000)
        return json_response([trade_wire.trade_json(inst, f) for f in fills[-limit:]])

    def income(self, call: Call) -> web.StreamResponse:
        """GET /fapi/vN/income: ascending by time; [startTime, endTime] (the last 7 days when neither is sent);
        with a startTime the first `limit` rows from it, otherwise the latest `limit` (as the venue pages)."""
        inst = instrument_or_none(call)
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
        limit = read_limit(call, 100, 1000)
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
        inst = instrument_or_none(call)
        if inst is not None:
            return json_response([wire.leverage_brackets(inst)])
        return json_response([wire.leverage_brackets(i) for i in self.engine.instruments[self.venue].values()])

    def commission_rate(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        return json_response(
            {
                "symbol": inst.symbol,
                "makerCommissionRate": f"{inst.maker_fee:f}",
                "takerCommissionRate": f"{inst.taker_fee:f}",
            }
        )

    def set_leverage(self, call: Call) -> web.StreamResponse:
        inst = instrument(call)
        leverage = call.integer("leverage")
        if not 1 <= leverage <= inst.max_leverage:
            raise Reply(errors.error(-4028, f"Leverage {leverage} is not valid"))
        self.engine.account(self.venue).leverage = leverage
        return json_response({"leverage": leverage, "maxNotionalValue": "5000000", "symbol": inst.symbol})

    def set_margin_type(self, call: Call) -> web.StreamResponse:
        instrument(call)
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

    def position_risk(self, call: Call) -> web.StreamResponse:
        version = version_of(call.request.path)
        if version >= self.position_risk_v3_from:
            version = 3
        elif version >= 3:
            version = 2
        inst = instrument_or_none(call)
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
            trade_wire.position_json(self.engine, self.engine.instrument(self.venue, p.symbol), p, version=version)
            for p in positions
        ]
        return json_response(rows)

    def account(self, call: Call) -> web.StreamResponse:
        return json_response(trade_wire.account_json(self.engine, self.venue))

    def balance(self, call: Call) -> web.StreamResponse:
        return json_response(trade_wire.balance_rows(self.engine, self.venue))
