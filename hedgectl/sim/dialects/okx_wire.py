"""OKX v5 wire basics and market data: envelopes, number formatting, instruments, books, funding.

Every size on the wire is in CONTRACTS (base qty / ctVal); every number is a string, times are
epoch-ms strings, and unset fields are empty strings, as OKX sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import Level

# List time of every simulated instrument (2019-12-11, when BTC-USDT-SWAP was listed).
LIST_TIME_MS = 1576054800000


def fmt(value: Decimal) -> str:
    """Write a Decimal as OKX does: plain notation, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def contracts(inst: Instrument, qty: Decimal) -> Decimal:
    """Base quantity -> OKX contracts."""
    return qty / inst.contract_value


def envelope(data: Sequence[Any], code: str = "0", msg: str = "") -> dict[str, Any]:
    """Wrap a reply in OKX's `{"code","msg","data"}` envelope."""
    return {"code": code, "msg": msg, "data": list(data)}


def error_body(code: str, msg: str) -> dict[str, Any]:
    """A request-level failure: non-zero code, empty data (auth, rate limit, bad params)."""
    return {"code": code, "msg": msg, "data": []}


def order_result(
    order_id: str, client_order_id: str, tag: str, ts_ms: int, s_code: str = "0", s_msg: str = ""
) -> dict[str, Any]:
    """One entry of a place/cancel reply: the per-order `sCode`/`sMsg` verdict."""
    return {
        "clOrdId": client_order_id,
        "ordId": order_id,
        "tag": tag,
        "ts": str(ts_ms),
        "sCode": s_code,
        "sMsg": "Order placed" if s_code == "0" and not s_msg and order_id else s_msg,
    }


def render_instrument(inst: Instrument) -> dict[str, Any]:
    """GET /api/v5/public/instruments entry for a linear USDT swap."""
    family = f"{inst.base}-{inst.quote}"
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": "",
        "category": "1",
        "ctMult": "1",
        "ctType": "linear",
        "ctVal": fmt(inst.contract_value),
        "ctValCcy": inst.base,
        "expTime": "",
        "instFamily": family,
        "instId": inst.symbol,
        "instType": "SWAP",
        "lever": str(inst.max_leverage),
        "listTime": str(LIST_TIME_MS),
        "lotSz": fmt(inst.venue_step),
        "maxIcebergSz": fmt(contracts(inst, inst.max_qty)),
        "maxLmtAmt": "20000000",
        "maxLmtSz": fmt(contracts(inst, inst.max_qty)),
        "maxMktAmt": "",
        "maxMktSz": fmt(contracts(inst, inst.max_qty) / 10),
        "maxStopSz": fmt(contracts(inst, inst.max_qty) / 10),
        "maxTriggerSz": fmt(contracts(inst, inst.max_qty)),
        "maxTwapSz": fmt(contracts(inst, inst.max_qty)),
        "minSz": fmt(inst.venue_min_qty),
        "optType": "",
        "quoteCcy": "",
        "ruleType": "normal",
        "settleCcy": inst.quote,
        "state": "live",
        "stk": "",
        "tickSz": fmt(inst.tick_size),
        "uly": family,
    }


def render_ticker(
    inst: Instrument,
    bids: Sequence[Level],
    asks: Sequence[Level],
    last: Decimal,
    open_24h: Decimal,
    high_24h: Decimal,
    low_24h: Decimal,
    vol_24h_base: Decimal,
    ts_ms: int,
) -> dict[str, Any]:
    """GET /api/v5/market/ticker entry (OKX's ticker does carry the top of book)."""
    best_bid, best_ask = bids[0], asks[0]
    return {
        "instType": "SWAP",
        "instId": inst.symbol,
        "last": fmt(last),
        "lastSz": fmt(inst.venue_min_qty),
        "askPx": fmt(best_ask.price),
        "askSz": fmt(contracts(inst, best_ask.qty)),
        "bidPx": fmt(best_bid.price),
        "bidSz": fmt(contracts(inst, best_bid.qty)),
        "open24h": fmt(open_24h),
        "high24h": fmt(high_24h),
        "low24h": fmt(low_24h),
        "volCcy24h": fmt(vol_24h_base),
        "vol24h": fmt(contracts(inst, vol_24h_base)),
        "sodUtc0": fmt(open_24h),
        "sodUtc8": fmt(open_24h),
        "ts": str(ts_ms),
    }


def _book_side(inst: Instrument, levels: Iterable[Level]) -> list[list[str]]:
    return [[fmt(level.price), fmt(contracts(inst, level.qty)), "0", "1"] for level in levels]


def render_books(
    inst: Instrument, bids: Sequence[Level], asks: Sequence[Level], depth: int, ts_ms: int
) -> dict[str, Any]:
    """GET /api/v5/market/books entry: best first on both sides, sizes in contracts (no seqId: that is the WS's)."""
    return {
        "asks": _book_side(inst, asks[:depth]),
        "bids": _book_side(inst, bids[:depth]),
        "ts": str(ts_ms),
    }


def render_mark_price(inst: Instrument, mark: Decimal, ts_ms: int) -> dict[str, Any]:
    """GET /api/v5/public/mark-price entry."""
    return {"instType": "SWAP", "instId": inst.symbol, "markPx": fmt(mark), "ts": str(ts_ms)}


def render_funding_rate(
    inst: Instrument, rate: Decimal, funding_time_ms: int, interval_ms: int, ts_ms: int
) -> dict[str, Any]:
    """GET /api/v5/public/funding-rate entry; `fundingTime` is the settlement the rate applies to."""
    return {
        "fundingRate": fmt(rate),
        "fundingTime": str(funding_time_ms),
        "impactValue": "",
        "instId": inst.symbol,
        "instType": "SWAP",
        "interestRate": "0.0001",
        "maxFundingRate": "0.0075",
        "method": "current_period",
        "minFundingRate": "-0.0075",
        "nextFundingRate": "",
        "nextFundingTime": str(funding_time_ms + interval_ms),
        "premium": fmt(rate - Decimal("0.0001")),
        "settFundingRate": fmt(rate),
        "settState": "settled",
        "ts": str(ts_ms),
    }
