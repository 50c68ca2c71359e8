"""Binance USDⓈ-M trading and account wire shapes (shared by the Aster dialect): orders, fills, positions,
balances and the account, as each endpoint's real reply carries them (Aster's differ where noted).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from hedgectl.sim.dialects.binance_wire import POSITION_SIDE_TO_WIRE, STATUS_TO_WIRE, TIF_TO_WIRE, fmt, fmt8, px, qty
from hedgectl.sim.engine import Engine
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import ZERO, Fill, Order, OrderType, Position, Side


def order_json(inst: Instrument, order: Order, *, ack: bool = False, reply: str = "query") -> dict[str, Any]:
    """The order object; `ack` renders it as at acceptance (newOrderRespType=ACK).

    `reply` is the endpoint it answers, whose real shape differs: "place" (POST /order) has no `time`,
    "cancel" (DELETE /order) neither `time` nor `avgPrice`; "query" (GET /order, openOrders) has both.
    """
    filled = ZERO if ack else order.filled_qty
    status = "NEW" if ack else STATUS_TO_WIRE[order.status]
    wire_type = "LIMIT" if order.type is OrderType.LIMIT else "MARKET"
    row: dict[str, Any] = {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": status,
        "clientOrderId": order.client_order_id,
        "price": px(inst, order.price or ZERO),
        "avgPrice": px(inst, ZERO if ack else order.avg_price),
        "origQty": qty(inst, order.qty),
        "executedQty": qty(inst, filled),
        "cumQty": qty(inst, filled),
        "cumQuote": fmt(ZERO if ack else order.filled_quote, 8),
        "timeInForce": TIF_TO_WIRE[order.tif],
        "type": wire_type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": "BUY" if order.side is Side.BUY else "SELL",
        "positionSide": POSITION_SIDE_TO_WIRE[order.position_side],
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": wire_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": order.created_ms,
        "updateTime": order.created_ms if ack else order.updated_ms,
    }
    if inst.venue == "aster":  # Binance's later order fields; Aster's order objects have none of them
        for key in ("priceMatch", "selfTradePreventionMode", "goodTillDate"):
            del row[key]
    if reply == "query":
        del row["cumQty"]  # GET /order and openOrders carry no cumQty; POST and DELETE do
    else:
        del row["time"]
    if reply == "cancel":
        del row["avgPrice"]
    return row


def trade_json(inst: Instrument, fill: Fill) -> dict[str, Any]:
    return {
        "buyer": fill.side is Side.BUY,
        "commission": fmt8(fill.fee),
        "commissionAsset": fill.fee_asset,
        "id": fill.fill_id,
        "maker": fill.maker,
        "orderId": fill.order_id,
        "price": px(inst, fill.price),
        "qty": qty(inst, fill.qty),
        "quoteQty": fmt8(fill.quote_qty),
        "realizedPnl": fmt8(fill.realized_pnl),
        "side": "BUY" if fill.side is Side.BUY else "SELL",
        "positionSide": POSITION_SIDE_TO_WIRE[fill.position_side],
        "symbol": fill.symbol,
        "time": fill.time_ms,
    }


def position_json(engine: Engine, inst: Instrument, pos: Position, *, version: int) -> dict[str, Any]:
    venue = inst.venue
    mark = engine.mark_price(venue, inst.symbol)
    acct = engine.account(venue)
    notional = pos.qty * mark
    upnl = pos.qty * (mark - pos.entry_price) if pos.qty else ZERO
    initial = abs(notional) / acct.leverage
    maint = abs(notional) * Decimal("0.004")
    liq = engine.liquidation_price(venue, pos)
    row: dict[str, Any] = {
        "symbol": inst.symbol,
        "positionSide": POSITION_SIDE_TO_WIRE[pos.side],
        "positionAmt": qty(inst, pos.qty),
        "entryPrice": fmt8(pos.entry_price) if pos.qty else "0.0",
        "breakEvenPrice": fmt8(pos.entry_price) if pos.qty else "0.0",
        "markPrice": fmt8(mark),
        "unRealizedProfit": fmt8(upnl),
        "liquidationPrice": fmt8(liq) if pos.qty else "0",
        "isolatedMargin": "0.00000000",
        "notional": fmt8(notional),
        "marginAsset": inst.quote,
        "isolatedWallet": "0",
        "initialMargin": fmt8(initial),
        "maintMargin": fmt8(maint),
        "positionInitialMargin": fmt8(initial),
        "openOrderInitialMargin": "0",
        "adl": "1" if pos.qty else "0",  # a string on the real venue
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": pos.updated_ms,
    }
    # Binance dropped leverage and margin type from positionRisk in v3; Aster's v3 still sends them.
    if version < 3 or venue == "aster":
        row.update(
            {
                "leverage": str(acct.leverage),
                "marginType": "cross",
                "maxNotionalValue": "5000000",
                "isAutoAddMargin": "false",
            }
        )
    # Aster's positionRisk row (its docs; `notional` too, which ccxt's aster parser reads): none of Binance's
    # later margin fields.
    if venue == "aster":
        row = {k: v for k, v in row.items() if k in ASTER_POSITION_FIELDS}
    return row


ASTER_POSITION_FIELDS = frozenset(
    {"symbol", "positionAmt", "entryPrice", "markPrice", "unRealizedProfit", "liquidationPrice", "leverage",
     "maxNotionalValue", "marginType", "isolatedMargin", "isAutoAddMargin", "positionSide", "updateTime",
     "notional"}
)  # fmt: skip


def balance_rows(engine: Engine, venue: str) -> list[dict[str, Any]]:
    acct = engine.account(venue)
    m = engine.margin(venue)
    now = int(time.time() * 1000)
    return [
        {
            "accountAlias": "SgsR",
            "asset": acct.asset,
            "balance": fmt8(acct.balance),
            "crossWalletBalance": fmt8(acct.balance),
            "crossUnPnl": fmt8(m.unrealized_pnl),
            "availableBalance": fmt8(m.available),
            "maxWithdrawAmount": fmt8(max(ZERO, min(m.available, acct.balance))),
            "marginAvailable": True,
            "updateTime": now,
        }
    ]


def account_json(engine: Engine, venue: str) -> dict[str, Any]:
    acct = engine.account(venue)
    m = engine.margin(venue)
    now = int(time.time() * 1000)
    initial = m.position_margin + m.order_margin
    positions = []
    for pos in engine.positions(venue):
        inst = engine.instrument(venue, pos.symbol)
        row = position_json(engine, inst, pos, version=3)
        positions.append(
            {
                k: row[k]
                for k in (
                    "symbol",
                    "positionSide",
                    "positionAmt",
                    "isolatedMargin",
                    "notional",
                    "isolatedWallet",
                    "initialMargin",
                    "maintMargin",
                    "updateTime",
                )
            }
            | {"unrealizedProfit": row["unRealizedProfit"], "entryPrice": row["entryPrice"]}
        )
    maint = sum((Decimal(p["maintMargin"]) for p in positions), ZERO)
    asset = {
        "asset": acct.asset,
        "walletBalance": fmt8(acct.balance),
        "unrealizedProfit": fmt8(m.unrealized_pnl),
        "marginBalance": fmt8(m.equity),
        "maintMargin": fmt8(maint),
        "initialMargin": fmt8(initial),
        "positionInitialMargin": fmt8(m.position_margin),
        "openOrderInitialMargin": fmt8(m.order_margin),
        "crossWalletBalance": fmt8(acct.balance),
        "crossUnPnl": fmt8(m.unrealized_pnl),
        "availableBalance": fmt8(m.available),
        "maxWithdrawAmount": fmt8(max(ZERO, min(m.available, acct.balance))),
        "marginAvailable": True,
        "updateTime": now,
    }
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": fmt8(initial),
        "totalMaintMargin": fmt8(maint),
        "totalWalletBalance": fmt8(acct.balance),
        "totalUnrealizedProfit": fmt8(m.unrealized_pnl),
        "totalMarginBalance": fmt8(m.equity),
        "totalPositionInitialMargin": fmt8(m.position_margin),
        "totalOpenOrderInitialMargin": fmt8(m.order_margin),
        "totalCrossWalletBalance": fmt8(acct.balance),
        "totalCrossUnPnl": fmt8(m.unrealized_pnl),
        "availableBalance": fmt8(m.available),
        "maxWithdrawAmount": fmt8(max(ZERO, min(m.available, acct.balance))),
        "assets": [asset],
        "positions": positions,
    }
