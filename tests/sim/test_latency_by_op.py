"""`POST /_sim/latency` with an `op`: only that operation's replies wait; without one, the whole venue (as before).

A delay is shown by a lower bound on the reply's time; "not delayed" by order: the other replies come back while
the delayed one is still pending (never an upper bound on time, which load could break)."""

from __future__ import annotations

import asyncio
import time

import httpx

DELAY_MS = 1000


async def _took(control: httpx.AsyncClient, path: str) -> float:
    started = time.monotonic()
    await control.get(path)
    return time.monotonic() - started


async def _answered_while_pending(control: httpx.AsyncClient, delayed: str, *others: str) -> None:
    """`delayed` is still waiting when every one of `others` has been answered; then it is answered too."""
    pending = asyncio.ensure_future(_took(control, delayed))
    for path in others:
        assert (await control.get(path)).status_code == 200
    assert not pending.done(), f"{delayed} was answered before {others}"
    assert await pending >= DELAY_MS / 1000


async def test_an_op_scoped_delay_holds_that_op_only_and_wins_over_the_venue_wide_one(
    control: httpx.AsyncClient,
) -> None:
    r = await control.post("/_sim/latency", json={"venue": "binance", "op": "fetch_time", "ms": DELAY_MS})
    assert r.json()["op_latency_ms"] == {"binance": {"fetch_time": DELAY_MS}}
    # another op of the same venue, the same op on another venue: not delayed
    await _answered_while_pending(
        control, "/binance/fapi/v1/time", "/binance/fapi/v1/exchangeInfo", "/aster/fapi/v1/time"
    )
    await control.post("/_sim/latency", json={"venue": "binance", "ms": DELAY_MS})  # venue-wide, as before
    r = await control.post("/_sim/latency", json={"venue": "binance", "op": "fetch_time", "ms": 1})
    assert r.json()["latency_ms"] == {"binance": DELAY_MS}
    # the op's own delay wins over the venue-wide one, which still holds the venue's other ops
    await _answered_while_pending(control, "/binance/fapi/v1/exchangeInfo", "/binance/fapi/v1/time")
    r = await control.post("/_sim/latency", json={"venue": "binance", "op": "fetch_time", "ms": 0})
    assert r.json()["op_latency_ms"] == {}
    assert await _took(control, "/binance/fapi/v1/time") >= DELAY_MS / 1000  # back to the venue-wide delay


async def test_an_unknown_op_is_refused_and_a_reset_clears_op_delays(control: httpx.AsyncClient) -> None:
    r = await control.post("/_sim/latency", json={"venue": "okx", "op": "create_ordr", "ms": 100})
    assert r.status_code == 400
    assert "create_order" in r.json()["error"]
    await control.post("/_sim/latency", json={"venue": "okx", "op": "create_order", "ms": 100})
    await control.post("/_sim/reset", json={})
    assert (await control.post("/_sim/latency", json={"venue": "okx", "ms": 0})).json()["op_latency_ms"] == {}
