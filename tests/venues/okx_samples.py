"""OKX v5 reply samples written for these tests: the shapes and facts of the recorded replies in
/work/shared/real_fixtures/okx (numbers as strings, "" for none, sizes in contracts, fees negative when
paid, per-order sCode inside code "1"), with values of our own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedgectl.domain.types import Market

D = Decimal
BTC = Market(
    "okx", "BTC", "BTC-USDT-SWAP", "BTC", "USDT", D("0.1"), D("0.001"), D("0.001"),
    contract_size=D("0.01"), max_qty=D("1000000"), max_market_qty=D("120"),
)  # fmt: skip


def ok(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": rows}


def refused(code: str, msg: str, *, s_code: str | None = None, s_msg: str = "") -> dict[str, Any]:
    """An error reply; with `s_code`, a per-order refusal under top-level code "1"."""
    if s_code is None:
        return {"code": code, "msg": msg, "data": []}
    return {"code": "1", "msg": msg, "data": [{"clOrdId": "", "ordId": "", "sCode": s_code, "sMsg": s_msg, "tag": ""}]}


def instrument(base: str = "BTC", **over: str) -> dict[str, str]:
    row = {
        "instId": f"{base}-USDT-SWAP", "instType": "SWAP", "uly": f"{base}-USDT", "instFamily": f"{base}-USDT",
        "baseCcy": "", "quoteCcy": "", "settleCcy": "USDT", "ctVal": "0.01", "ctMult": "1", "ctValCcy": base,
        "ctType": "linear", "lotSz": "0.1", "minSz": "0.1", "tickSz": "0.1", "lever": "100",
        "maxLmtSz": "100000000", "maxMktSz": "12000", "state": "live", "listTime": "1573557408000", "expTime": "",
    }  # fmt: skip
    return {**row, **over}


def order_row(**over: str) -> dict[str, str]:
    row = {
        "instType": "SWAP", "instId": "BTC-USDT-SWAP", "ordId": "7001", "clOrdId": "hc1", "tag": "", "px": "",
        "sz": "3", "ordType": "market", "side": "buy", "posSide": "net", "tdMode": "cross", "accFillSz": "3",
        "avgPx": "65000.1", "state": "filled", "lever": "10", "fee": "-0.0975015", "feeCcy": "USDT",
        "rebate": "0", "rebateCcy": "USDT", "reduceOnly": "false", "cancelSource": "", "fillPx": "65000.1",
        "fillSz": "3", "fillTime": "1765000000100", "tradeId": "91", "cTime": "1765000000000",
        "uTime": "1765000000100",
    }  # fmt: skip
    return {**row, **over}


def fill_row(**over: str) -> dict[str, str]:
    row = {
        "instType": "SWAP", "instId": "BTC-USDT-SWAP", "tradeId": "91", "ordId": "7001", "clOrdId": "hc1",
        "billId": "555", "fillPx": "65000.1", "fillSz": "3", "side": "buy", "posSide": "net", "execType": "T",
        "fee": "-0.0975015", "feeCcy": "USDT", "ts": "1765000000101", "fillTime": "1765000000100",
    }  # fmt: skip
    return {**row, **over}


def funding_bill(bill_id: str, ts_ms: int, bal_chg: str, **over: str) -> dict[str, str]:
    """A type-8 (funding fee) bill: subType 173 paid, 174 received; `px` the rate, `sz` contracts (unsigned)."""
    row = {
        "billId": bill_id, "instType": "SWAP", "instId": "BTC-USDT-SWAP", "ccy": "USDT", "mgnMode": "cross",
        "type": "8", "subType": "174" if not bal_chg.startswith("-") else "173", "balChg": bal_chg,
        "posBalChg": "0", "bal": "1000", "posBal": "0", "sz": "30", "px": "0.0001", "pnl": bal_chg, "fee": "0",
        "ordId": "", "clOrdId": "", "tradeId": "", "execType": "", "from": "", "to": "", "notes": "",
        "interest": "0", "tag": "", "fillTime": "", "ts": str(ts_ms),
    }  # fmt: skip
    return {**row, **over}
