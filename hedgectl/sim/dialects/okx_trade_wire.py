"""OKX v5 trading and account wire shapes: orders, fills, positions, balance, account config.

Sizes are contracts (base qty / ctVal); fees are negative when charged, as OKX reports them.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

from hedgectl.sim.dialects.okx_wire import contracts, fmt
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import (
    Fill,
    FundingPayment,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionMode,
    PosSide,
    TimeInForce,
)

ZERO = Decimal(0)
# The simulator's one account id: OKX reports a numeric uid and position ids.
UID = "448971200713216"
# Maintenance-margin rate used for the `mmr` figures (OKX's lowest tier for the majors).
MMR_RATE = Decimal("0.004")

# OKX's cancelSource codes for the cancellations the simulator makes.
CANCEL_SOURCE_USER = "1"
CANCEL_SOURCE_IOC = "14"
CANCEL_SOURCE_POST_ONLY = "31"


def ord_type(order: Order) -> str:
    """OKX's ordType for an engine order."""
    if order.type is OrderType.MARKET:
        return "market"
    return {
        TimeInForce.GTC: "limit",
        TimeInForce.POST_ONLY: "post_only",
        TimeInForce.IOC: "ioc",
        TimeInForce.FOK: "fok",
    }[order.tif]


def order_state(order: Order) -> str:
    """OKX's order `state`; it has no 'expired': refused post-only and IOC rests end 'canceled'."""
    return {
        OrderStatus.NEW: "live",
        OrderStatus.PARTIALLY_FILLED: "partially_filled",
        OrderStatus.FILLED: "filled",
        OrderStatus.CANCELED: "canceled",
        OrderStatus.EXPIRED: "canceled",
    }[order.status]


def _cancel_source(order: Order) -> tuple[str, str]:
    if order.status is OrderStatus.CANCELED:
        return CANCEL_SOURCE_USER, "Order canceled by user"
    if order.status is OrderStatus.EXPIRED:
        if order.tif is TimeInForce.POST_ONLY:
            return CANCEL_SOURCE_POST_ONLY, "The post-only order will take liquidity in taker orders"
        return CANCEL_SOURCE_IOC, "Order canceled: IOC order was partially canceled due to incompletely filled"
    return "", ""


POS_SIDE_TO_WIRE = {PosSide.BOTH: "net", PosSide.LONG: "long", PosSide.SHORT: "short"}


def render_order(
    order: Order, inst: Instrument, lever: int, last_fill: Fill | None = None, tag: str = ""
) -> dict[str, Any]:
    """GET /api/v5/trade/order (and orders-pending/-history) entry; `fee` is negative when paid."""
    cancel_source, cancel_reason = _cancel_source(order)
    filled = order.filled_qty > 0
    updated_ms = order.updated_ms or order.created_ms
    return {
        "accFillSz": fmt(contracts(inst, order.filled_qty)),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": [],
        "avgPx": fmt(order.avg_price) if filled else "",
        "cTime": str(order.created_ms),
        "cancelSource": cancel_source,
        "cancelSourceReason": cancel_reason,
        "category": "normal",
        "ccy": "",
        "clOrdId": order.client_order_id or "",
        "fee": fmt(-order.fee),
        "feeCcy": inst.quote,
        "fillPx": fmt(last_fill.price) if last_fill else "",
        "fillSz": fmt(contracts(inst, last_fill.qty)) if last_fill else "0",
        "fillTime": str(last_fill.time_ms) if last_fill else "",
        "instId": inst.symbol,
        "instType": "SWAP",
        "isTpLimit": "false",
        "lever": str(lever),
        "linkedAlgoOrd": {"algoId": ""},
        "ordId": str(order.order_id),
        "ordType": ord_type(order),
        "pnl": "0",
        "posSide": POS_SIDE_TO_WIRE[order.position_side],
        "px": fmt(order.price) if order.price is not None else "",
        "pxType": "",
        "pxUsd": "",
        "pxVol": "",
        "quickMgnType": "",
        "rebate": "0",
        "rebateCcy": inst.quote,
        "reduceOnly": "true" if order.reduce_only else "false",
        "side": order.side.value,
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": order_state(order),
        "stpId": "",
        "stpMode": "cancel_maker",
        "sz": fmt(contracts(inst, order.qty)),
        "tag": tag,
        "tdMode": "cross",
        "tgtCcy": "",
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": str(last_fill.fill_id) if last_fill else "",
        "uTime": str(updated_ms),
    }


def render_fill(fill: Fill, inst: Instrument) -> dict[str, Any]:
    """GET /api/v5/trade/fills(-history) entry; `fee` negative when paid, execType T or M."""
    fee_rate = inst.maker_fee if fill.maker else inst.taker_fee
    return {
        "instType": "SWAP",
        "instId": inst.symbol,
        "tradeId": str(fill.fill_id),
        "ordId": str(fill.order_id),
        "clOrdId": fill.client_order_id or "",
        "billId": str(fill.fill_id * 10 + 1),
        "subType": "1" if fill.side.value == "buy" else "2",
        "tag": "",
        "fillPx": fmt(fill.price),
        "fillSz": fmt(contracts(inst, fill.qty)),
        "fillIdxPx": "",
        "fillPnl": fmt(fill.realized_pnl),
        "fillPxVol": "",
        "fillPxUsd": "",
        "fillMarkVol": "",
        "fillFwdPx": "",
        "fillMarkPx": "",
        "side": fill.side.value,
        "posSide": POS_SIDE_TO_WIRE[fill.position_side],
        "execType": "M" if fill.maker else "T",
        "feeCcy": fill.fee_asset,
        "fee": fmt(-fill.fee),
        "feeRate": fmt(-fee_rate),
        "ts": str(fill.time_ms),
        "fillTime": str(fill.time_ms),
    }


def render_position(
    position: Position, inst: Instrument, mark: Decimal, lever: int, ts_ms: int, liq: Decimal = ZERO
) -> dict[str, Any]:
    """GET /api/v5/account/positions entry: `pos` in contracts, signed in net mode, positive per side in
    long_short_mode (`posSide` long/short says the direction); `liqPx` "" when none."""
    notional = abs(position.qty) * mark
    upl = (mark - position.entry_price) * position.qty
    imr = notional / lever
    cost = abs(position.qty) * position.entry_price
    upl_ratio = upl / (cost / lever) if cost else ZERO
    return {
        "adl": "1",
        "availPos": "",
        "avgPx": fmt(position.entry_price),
        "bePx": fmt(position.entry_price),
        "cTime": str(position.updated_ms or ts_ms),
        "ccy": inst.quote,
        "fee": "0",
        "fundingFee": "0",
        "idxPx": fmt(mark),
        "imr": fmt(imr.quantize(Decimal("0.00000001"))),
        "instId": inst.symbol,
        "instType": "SWAP",
        "interest": "",
        "last": fmt(mark),
        "lever": str(lever),
        "liab": "",
        "liabCcy": "",
        "liqPx": fmt(liq.quantize(Decimal("0.1"))) if liq > 0 else "",
        "margin": "",
        "markPx": fmt(mark),
        "mgnMode": "cross",
        "mgnRatio": "",
        "mmr": fmt((notional * MMR_RATE).quantize(Decimal("0.00000001"))),
        "notionalUsd": fmt(notional.quantize(Decimal("0.00000001"))),
        "optVal": "",
        "pendingCloseOrdLiabVal": "",
        "pnl": fmt(position.realized_pnl),
        "pos": fmt(contracts(inst, position.qty if position.side is PosSide.BOTH else abs(position.qty))),
        "posCcy": "",
        "posId": str(zlib.crc32(position.key.encode()) + 700_000_000_000),
        "posSide": POS_SIDE_TO_WIRE[position.side],
        "quoteBal": "",
        "realizedPnl": fmt(position.realized_pnl),
        "tradeId": "",
        "uTime": str(position.updated_ms or ts_ms),
        "upl": fmt(upl.quantize(Decimal("0.00000001"))),
        "uplLastPx": fmt(upl.quantize(Decimal("0.00000001"))),
        "uplRatio": fmt(upl_ratio.quantize(Decimal("0.0001"))),
        "usdPx": "",
    }


def render_balance(
    asset: str, cash: Decimal, upl: Decimal, position_margin: Decimal, order_margin: Decimal, ts_ms: int
) -> dict[str, Any]:
    """GET /api/v5/account/balance `data[0]` for a cross-margin account holding one asset."""
    equity = cash + upl
    frozen = position_margin + order_margin
    available = equity - frozen
    detail = {
        "availBal": fmt(cash - frozen),
        "availEq": fmt(available),
        "borrowFroz": "",
        "cashBal": fmt(cash),
        "ccy": asset,
        "crossLiab": "",
        "disEq": fmt(equity),
        "eq": fmt(equity),
        "eqUsd": fmt(equity),
        "fixedBal": "0",
        "frozenBal": fmt(frozen),
        "imr": fmt(position_margin),
        "interest": "",
        "isoEq": "0",
        "isoLiab": "",
        "isoUpl": "0",
        "liab": "",
        "maxLoan": "",
        "mgnRatio": "",
        "mmr": "",
        "notionalLever": "",
        "ordFrozen": fmt(order_margin),
        "stgyEq": "0",
        "twap": "0",
        "uTime": str(ts_ms),
        "upl": fmt(upl),
        "uplLiab": "",
    }
    return {
        "adjEq": fmt(equity),
        "borrowFroz": "",
        "details": [detail],
        "imr": fmt(position_margin),
        "isoEq": "0",
        "mgnRatio": "",
        "mmr": "",
        "notionalUsd": "",
        "ordFroz": fmt(order_margin),
        "totalEq": fmt(equity),
        "uTime": str(ts_ms),
        "upl": fmt(upl),
    }


def render_trade_fee(inst: Instrument, ts_ms: int) -> dict[str, Any]:
    """GET /api/v5/account/trade-fee?instType=SWAP entry: rates signed from the account's side (a charge is
    negative); `takerU`/`makerU` are the USDT-margined swaps', `taker`/`maker` the coin-margined ones',
    `*USDC` the USDC-margined ones'. The simulated account holds one tier, so all three carry its rates."""
    maker, taker = fmt(-inst.maker_fee), fmt(-inst.taker_fee)
    return {
        "category": "1",
        "delivery": "",
        "exercise": "",
        "fiat": [],
        "instType": "SWAP",
        "level": "Lv1",
        "maker": maker,
        "makerU": maker,
        "makerUSDC": maker,
        "ruleType": "normal",
        "taker": taker,
        "takerU": taker,
        "takerUSDC": taker,
        "ts": str(ts_ms),
    }


def render_account_config(mode: PositionMode = PositionMode.ONE_WAY) -> dict[str, Any]:
    """GET /api/v5/account/config entry: a single-currency margin account in net or long/short mode."""
    return {
        "acctLv": "2",
        "acctStpMode": "cancel_maker",
        "autoLoan": False,
        "ctIsoMode": "automatic",
        "enableSpotBorrow": False,
        "greeksType": "PA",
        "ip": "",
        "kycLv": "2",
        "label": "hedgectl-sim",
        "level": "Lv1",
        "levelTmp": "",
        "liquidationGear": "-1",
        "mainUid": UID,
        "mgnIsoMode": "automatic",
        "opAuth": "0",
        "perm": "read_only,trade",
        "posMode": "long_short_mode" if mode is PositionMode.HEDGE else "net_mode",
        "roleType": "0",
        "spotBorrowAutoRepay": False,
        "spotOffsetType": "",
        "spotRoleType": "0",
        "spotTraderInsts": [],
        "traderInsts": [],
        "uid": UID,
    }


FUNDING_BILL_TYPE = "8"
FUNDING_EXPENSE, FUNDING_INCOME = "173", "174"


def render_funding_bill(payment: FundingPayment, inst: Instrument, asset: str) -> dict[str, Any]:
    """GET /api/v5/account/bills row of type 8 (funding fee): `balChg` is the signed payment (+ received),
    subType 173 an expense and 174 an income, `sz` the position in contracts (unsigned), `px` the rate."""
    return {
        "bal": fmt(payment.balance_after),
        "balChg": fmt(payment.amount),
        "billId": str(payment.payment_id),
        "ccy": asset,
        "clOrdId": "",
        "execType": "",
        "fee": "0",
        "fillFwdPx": "",
        "fillIdxPx": "",
        "fillMarkPx": "",
        "fillMarkVol": "",
        "fillPxUsd": "",
        "fillPxVol": "",
        "fillTime": "",
        "from": "",
        "instId": inst.symbol,
        "instType": "SWAP",
        "interest": "0",
        "mgnMode": "cross",
        "notes": "",
        "ordId": "",
        "pnl": fmt(payment.amount),
        "posBal": "0",
        "posBalChg": "0",
        "px": fmt(payment.rate),
        "subType": FUNDING_INCOME if payment.amount > 0 else FUNDING_EXPENSE,
        "sz": fmt(abs(contracts(inst, payment.position_qty))),
        "tag": "",
        "to": "",
        "tradeId": "",
        "ts": str(payment.time_ms),
        "type": FUNDING_BILL_TYPE,
    }
