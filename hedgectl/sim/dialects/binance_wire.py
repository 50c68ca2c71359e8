"""Binance USDⓈ-M wire basics and market data (shared by the Aster dialect, whose API is a Binance clone):
enum tables, number formatting, exchangeInfo, depth, tickers, premium index, leverage brackets.

Orders, fills, positions and balances are in `binance_trade_wire.py`.
"""

from __future__ import annotations

import time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from hedgectl.sim.accounts import FundingState
from hedgectl.sim.engine import Engine
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import ZERO, OrderStatus, PosSide, TimeInForce

ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
CONDITIONAL_TYPES = frozenset(ORDER_TYPES[2:])
TIF_TO_WIRE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}
TIF_FROM_WIRE = {v: k for k, v in TIF_TO_WIRE.items()}
POSITION_SIDE_TO_WIRE = {PosSide.BOTH: "BOTH", PosSide.LONG: "LONG", PosSide.SHORT: "SHORT"}
STATUS_TO_WIRE = {
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
}
ONBOARD_MS = 1_569_398_400_000
DELIVERY_MS = 4_133_404_800_000


@lru_cache(maxsize=1024)
def decimals(step: Decimal) -> int:
    """Number of decimals of a tick/step size (0.010 -> 2, 1 -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


_QUANTUM = [Decimal(1).scaleb(-places) for places in range(19)]


def fmt(value: Decimal, places: int) -> str:
    """Fixed-point text as Binance prints it (`95001.00`)."""
    return f"{value.quantize(_QUANTUM[places]):f}"


def fmt8(value: Decimal) -> str:
    return fmt(value, 8)


def px(inst: Instrument, value: Decimal) -> str:
    return fmt(value, decimals(inst.tick_size))


def qty(inst: Instrument, value: Decimal) -> str:
    return fmt(value, decimals(inst.step_size))


def symbol_info(inst: Instrument, *, tifs: list[str], min_notional: bool = True) -> dict[str, Any]:
    tick, step = inst.tick_size, inst.step_size
    filters: list[dict[str, Any]] = [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": px(inst, tick),
            "maxPrice": px(inst, inst.max_price),
            "tickSize": str(tick),
        },
        {"filterType": "LOT_SIZE", "minQty": str(inst.min_qty), "maxQty": str(inst.max_qty), "stepSize": str(step)},
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": str(inst.min_qty),
            "maxQty": str(inst.max_qty / 10),
            "stepSize": str(step),
        },
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500", "multiplierDecimal": "4"},
    ]
    if min_notional:
        filters.append({"filterType": "MIN_NOTIONAL", "notional": f"{inst.min_notional.normalize():f}"})
    return {
        "symbol": inst.symbol,
        "pair": inst.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": DELIVERY_MS,
        "onboardDate": ONBOARD_MS,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": inst.base,
        "quoteAsset": inst.quote,
        "marginAsset": inst.quote,
        "pricePrecision": decimals(tick),
        "quantityPrecision": decimals(step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": filters,
        "orderTypes": ORDER_TYPES,
        "timeInForce": tifs,
    }


def exchange_info(engine: Engine, venue: str, *, tifs: list[str], auto_asset_exchange: int | str = 0) -> dict[str, Any]:
    insts = engine.instruments[venue].values()
    quote = next(iter(insts)).quote
    return {
        "timezone": "UTC",
        "serverTime": int(time.time() * 1000),
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": quote, "marginAvailable": True, "autoAssetExchange": auto_asset_exchange}],
        "symbols": [symbol_info(i, tifs=tifs) for i in insts],
    }


def depth(engine: Engine, inst: Instrument, limit: int) -> dict[str, Any]:
    book = engine.book(inst.venue, inst.symbol)
    stamp = int(time.time() * 1000)
    return {
        "lastUpdateId": book.tick + 1,
        "E": stamp,
        "T": stamp,
        "bids": [[px(inst, lv.price), qty(inst, lv.qty)] for lv in book.bids[:limit]],
        "asks": [[px(inst, lv.price), qty(inst, lv.qty)] for lv in book.asks[:limit]],
    }


def ticker_24h(engine: Engine, inst: Instrument) -> dict[str, Any]:
    last = engine.mark_price(inst.venue, inst.symbol)
    open_ = engine.open_price_24h(inst.venue, inst.symbol)
    change = last - open_
    now = int(time.time() * 1000)
    volume = sum((f.qty for f in engine.fills(inst.venue, inst.symbol)), ZERO) + inst.min_qty * 5000
    return {
        "symbol": inst.symbol,
        "priceChange": px(inst, change),
        "priceChangePercent": fmt(change / open_ * 100, 3) if open_ else "0.000",
        "weightedAvgPrice": px(inst, (last + open_) / 2),
        "lastPrice": px(inst, last),
        "lastQty": qty(inst, inst.min_qty),
        "openPrice": px(inst, open_),
        "highPrice": px(inst, max(last, open_)),
        "lowPrice": px(inst, min(last, open_)),
        "volume": qty(inst, volume),
        "quoteVolume": fmt(volume * last, 2),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": 1,
        "lastId": 1000,
        "count": 1000,
    }


def book_ticker(engine: Engine, inst: Instrument) -> dict[str, Any]:
    book = engine.book(inst.venue, inst.symbol)
    row: dict[str, Any] = {
        "symbol": inst.symbol,
        "bidPrice": px(inst, book.best_bid),
        "bidQty": qty(inst, book.bids[0].qty),
        "askPrice": px(inst, book.best_ask),
        "askQty": qty(inst, book.asks[0].qty),
        "time": int(time.time() * 1000),
    }
    if inst.venue != "aster":  # Aster's bookTicker has no lastUpdateId
        row["lastUpdateId"] = book.tick + 1
    return row


def premium_index(engine: Engine, inst: Instrument, funding: FundingState) -> dict[str, Any]:
    mark = engine.mark_price(inst.venue, inst.symbol)
    return {
        "symbol": inst.symbol,
        "markPrice": px(inst, mark),
        "indexPrice": px(inst, engine.index_price(inst.venue, inst.symbol)),
        "estimatedSettlePrice": px(inst, mark),
        "lastFundingRate": fmt8(funding.rate),
        "interestRate": "0.00010000",
        "nextFundingTime": funding.next_ms,
        "time": int(time.time() * 1000),
    }


def leverage_brackets(inst: Instrument) -> dict[str, Any]:
    caps = [(50_000, inst.max_leverage, "0.004"), (500_000, 50, "0.005"), (10_000_000, 20, "0.01")]
    brackets = []
    floor = 0
    cum = Decimal(0)
    prev_ratio = Decimal(0)
    for i, (cap, lev, ratio) in enumerate(caps, start=1):
        cum += Decimal(floor) * (Decimal(ratio) - prev_ratio)
        brackets.append(
            {
                "bracket": i,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(ratio),
                "cum": float(cum),
            }
        )
        floor, prev_ratio = cap, Decimal(ratio)
    return {"symbol": inst.symbol, "notionalCoef": 1.0, "brackets": brackets}
