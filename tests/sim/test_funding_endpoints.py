"""Funding payments as each venue serves them: Binance/Aster income, OKX bills, Backpack funding history.

Every payment comes from the engine's own settlement (POST /_sim/funding with a time already due settles at
once); the rows are checked against `/_sim/state`, the referee's record of what the account paid.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx

from hedgectl.sim import credentials
from hedgectl.sim.server import Running

from .helpers import binance_query
from .test_backpack_dialect import BackpackClient
from .test_okx_dialect import OkxClient
from .test_position_modes import binance, market, set_mode

BINANCE_HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY}
ASTER_HEADERS = {"X-MBX-APIKEY": credentials.ASTER_API_KEY}


async def settle(control: httpx.AsyncClient, venue: str, symbol: str, rate: str, at_ms: int | None = None) -> None:
    """Make one funding settlement of `symbol` happen now (at `at_ms`, a time already passed)."""
    due = at_ms if at_ms is not None else time.time_ns() // 1_000_000 - 1
    r = await control.post(
        "/_sim/funding", json={"venue": venue, "symbol": symbol, "rate": rate, "next_funding_ms": due}
    )
    assert r.status_code == 200, r.text


async def state_funding(control: httpx.AsyncClient, venue: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await control.get("/_sim/state")).json()["venues"][venue]["funding"]
    return rows


async def income(control: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await binance(control, "GET", "/fapi/v1/income", **params)).json()
    return rows


async def test_binance_income_lists_each_funding_payment_once_with_its_sign(control: httpx.AsyncClient) -> None:
    assert (await market(control, "BUY", "long1")).status_code == 200
    await settle(control, "binance", "BTC", "0.0001")  # a long pays a positive rate
    await settle(control, "binance", "BTC", "-0.0002")  # and receives a negative one
    rows = await income(control, incomeType="FUNDING_FEE", symbol="BTCUSDT")
    truth = await state_funding(control, "binance")
    assert [Decimal(r["income"]) for r in rows] == [Decimal(p["amount"]).quantize(Decimal("1e-8")) for p in truth]
    assert [Decimal(r["income"]) < 0 for r in rows] == [True, False]
    assert len({r["tranId"] for r in rows}) == 2
    assert all(r["incomeType"] == "FUNDING_FEE" and r["asset"] == "USDT" and r["tradeId"] == "" for r in rows)
    assert all(isinstance(r["tranId"], str) and isinstance(r["time"], int) for r in rows)


async def test_binance_income_pages_from_start_time_and_filters_by_type(control: httpx.AsyncClient) -> None:
    assert (await market(control, "SELL", "short1")).status_code == 200
    base = time.time_ns() // 1_000_000 - 10_000
    for k in range(3):
        await settle(control, "binance", "BTC", "0.0001", at_ms=base + k * 1000)
    first = await income(control, incomeType="FUNDING_FEE", startTime=str(base), limit="2")
    assert [r["time"] for r in first] == [base, base + 1000]
    assert all(Decimal(r["income"]) > 0 for r in first)  # a short receives a positive rate
    rest = await income(control, incomeType="FUNDING_FEE", startTime=str(first[-1]["time"] + 1), limit="2")
    assert [r["time"] for r in rest] == [base + 2000]
    empty = await income(control, incomeType="FUNDING_FEE", startTime=str(base + 2001))
    assert empty == []
    window = await income(control, incomeType="FUNDING_FEE", startTime=str(base), endTime=str(base + 1000))
    assert len(window) == 2
    everything = await income(control)
    assert {r["incomeType"] for r in everything} == {"FUNDING_FEE", "COMMISSION"}


async def test_binance_hedge_mode_pays_each_side_under_its_own_id(control: httpx.AsyncClient) -> None:
    await set_mode(control, "binance", "hedge")
    assert (await market(control, "BUY", "l1", positionSide="LONG", quantity="0.004")).status_code == 200
    assert (await market(control, "SELL", "s1", positionSide="SHORT")).status_code == 200
    await settle(control, "binance", "BTC", "0.0001")
    rows = await income(control, incomeType="FUNDING_FEE")
    assert len(rows) == 2
    assert rows[0]["tranId"] != rows[1]["tranId"]
    truth = await state_funding(control, "binance")
    assert sorted((p["side"], Decimal(p["position_qty"])) for p in truth) == [
        ("long", Decimal("0.004")),
        ("short", Decimal("-0.002")),
    ]


async def test_binance_lists_its_4h_symbol_in_funding_info_and_settles_at_that_interval(
    control: httpx.AsyncClient, sim_server: Running
) -> None:
    rows = (await control.get("/binance/fapi/v1/fundingInfo")).json()
    assert [(r["symbol"], r["fundingIntervalHours"]) for r in rows] == [("SOLUSDT", 4)]
    engine = sim_server.sim.engine
    await settle(control, "binance", "SOL", "0.0001")
    sol, btc = engine.funding_state("binance", "SOLUSDT"), engine.funding_state("binance", "BTCUSDT")
    assert (sol.interval_ms, sol.next_ms % (4 * 3_600_000)) == (4 * 3_600_000, 0)
    assert sol.next_ms - time.time() * 1000 <= 4 * 3_600_000
    assert btc.interval_ms == 8 * 3_600_000
    bp = engine.funding_state("backpack", "BTC_USDC_PERP")
    await settle(control, "backpack", "BTC", "0.0001")
    assert bp.next_ms - time.time() * 1000 <= 3_600_000


async def test_aster_serves_income_on_v1_and_v3(control: httpx.AsyncClient) -> None:
    query = binance_query(
        {"symbol": "ASTERUSDT", "side": "BUY", "type": "MARKET", "quantity": "10"}, credentials.ASTER_API_SECRET
    )
    r = await control.post(
        "/aster/fapi/v1/order",
        content=query,
        headers={**ASTER_HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    await settle(control, "aster", "ASTER", "0.0003")
    query = binance_query({"incomeType": "FUNDING_FEE"}, credentials.ASTER_API_SECRET)
    rows = (await control.get(f"/aster/fapi/v1/income?{query}", headers=ASTER_HEADERS)).json()
    truth = await state_funding(control, "aster")
    assert [(r["symbol"], Decimal(r["income"])) for r in rows] == [
        ("ASTERUSDT", Decimal(truth[0]["amount"]).quantize(Decimal("1e-8")))
    ]
    unsigned = await control.get("/aster/fapi/v3/income")  # the route exists: it asks for the V3 signature
    assert unsigned.status_code == 400
    assert "code" in unsigned.json()


async def test_okx_bills_page_newest_first_by_bill_id(control: httpx.AsyncClient) -> None:
    client = OkxClient(control)
    order = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "sell", "ordType": "market", "sz": "2"}
    assert (await client.post("/trade/order", order)).json()["code"] == "0"
    base = time.time_ns() // 1_000_000 - 10_000
    for k in range(3):
        await settle(control, "okx", "BTC", "0.0001", at_ms=base + k * 1000)
    data = (await client.get("/account/bills", "instType=SWAP&type=8&limit=2")).json()["data"]
    assert [int(b["ts"]) for b in data] == [base + 2000, base + 1000]
    older = (await client.get("/account/bills", f"instType=SWAP&type=8&after={data[-1]['billId']}")).json()["data"]
    assert [int(b["ts"]) for b in older] == [base]
    assert (await client.get("/account/bills", f"type=8&after={older[-1]['billId']}")).json()["data"] == []
    newer = (await client.get("/account/bills", f"type=8&before={older[0]['billId']}&limit=1")).json()["data"]
    assert [int(b["ts"]) for b in newer] == [base + 1000]
    bill = data[0]
    truth = (await state_funding(control, "okx"))[-1]
    assert Decimal(bill["balChg"]) == Decimal(truth["amount"]) > 0  # a short receives a positive rate
    assert (bill["type"], bill["subType"], bill["sz"], bill["ccy"]) == ("8", "174", "2", "USDT")
    archive = (await client.get("/account/bills-archive", "instId=BTC-USDT-SWAP&type=8")).json()["data"]
    assert len(archive) == 3
    assert (await client.get("/account/bills", "type=2")).json()["data"] == []


async def test_backpack_funding_history_pages_by_offset(control: httpx.AsyncClient) -> None:
    client = BackpackClient(control)
    order = {"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Market", "quantity": "0.01"}
    assert (await client.send("POST", "/api/v1/order", "orderExecute", order)).status_code == 200
    base = time.time_ns() // 1_000_000 - 10_000
    for k in range(3):
        await settle(control, "backpack", "BTC", "-0.0001", at_ms=base + k * 1000)
    first = (await client.get("/wapi/v1/history/funding", "fundingHistoryQueryAll", limit="2")).json()
    second = (await client.get("/wapi/v1/history/funding", "fundingHistoryQueryAll", limit="2", offset="2")).json()
    third = (await client.get("/wapi/v1/history/funding", "fundingHistoryQueryAll", limit="2", offset="4")).json()
    assert (len(first), len(second), third) == (2, 1, [])
    stamps = [row["intervalEndTimestamp"] for row in first + second]
    assert stamps == sorted(stamps, reverse=True)  # newest first by default
    assert all(Decimal(row["quantity"]) > 0 for row in first + second)  # a long receives a negative rate
    truth = await state_funding(control, "backpack")
    assert sum(Decimal(r["quantity"]) for r in first + second) == sum(Decimal(p["amount"]) for p in truth)
