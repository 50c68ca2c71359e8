"""Garbage in, venue errors out: random order parameters never crash a dialect or leak a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgectl.sim import credentials
from hedgectl.sim.embedded import EmbeddedSimulator

from .helpers import binance_query

HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
junk = st.one_of(
    st.sampled_from(["", "0", "-1", "1e400", "NaN", "Infinity", "0.00000001", "9" * 40, "true", "True", "null"]),
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with EmbeddedSimulator(None, seed=9) as sim, httpx.Client(base_url=str(sim.url), timeout=10) as c:
        yield c


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", "ASTERUSDT", "NOPE", ""]),
    side=st.sampled_from(["BUY", "SELL", "buy", ""]),
    kind=st.sampled_from(["LIMIT", "MARKET", "STOP", ""]),
    quantity=junk,
    price=junk,
    tif=st.sampled_from(["GTC", "IOC", "FOK", "GTX", "XYZ", ""]),
    reduce_only=junk,
    client_id=st.one_of(st.none(), st.text(max_size=40)),
    venue=st.sampled_from(["binance", "aster"]),
)
def test_random_orders_get_venue_shaped_answers(
    client: httpx.Client,
    symbol: str,
    side: str,
    kind: str,
    quantity: str,
    price: str,
    tif: str,
    reduce_only: str,
    client_id: str | None,
    venue: str,
) -> None:
    params = {"symbol": symbol, "side": side, "type": kind, "quantity": quantity, "price": price, "timeInForce": tif}
    params["reduceOnly"] = reduce_only
    if client_id is not None:
        params["newClientOrderId"] = client_id
    secret = credentials.BINANCE_API_SECRET if venue == "binance" else credentials.ASTER_API_SECRET
    key = credentials.BINANCE_API_KEY if venue == "binance" else credentials.ASTER_API_KEY
    r = client.post(
        f"/{venue}/fapi/v1/order", content=binance_query(params, secret), headers={**HEADERS, "X-MBX-APIKEY": key}
    )
    assert r.status_code in (200, 400), r.text
    body = r.json()
    assert ("orderId" in body) if r.status_code == 200 else (set(body) == {"code", "msg"})
    assert "Traceback" not in r.text
    assert client.get("/_sim/health").json() == {"ok": True}
