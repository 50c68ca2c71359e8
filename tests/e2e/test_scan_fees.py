"""`hedgectl scan` prices each venue with the account's own taker tier (issue 18): against a simulator whose
tiers differ from every venue's published default, `scan --json` reports `account` as the source for all four
venues, with the rate the simulator's own signed fee endpoint serves (read raw here, signed with the simulator's
credentials as any client would)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import pytest

from hedgectl.domain.fees import PUBLISHED_TAKER_FEE_RATE
from hedgectl.sim import credentials
from hedgectl.sim.dialects.backpack_auth import sign as backpack_sign
from hedgectl.sim.dialects.backpack_auth import signing_string as backpack_signing_string
from hedgectl.sim.dialects.okx_auth import okx_signature
from hedgectl.sim.embedded import EmbeddedSimulator
from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e

# maker/taker per venue: every taker rate differs from the venue's published default.
TIERS = {
    "binance": (Decimal("0.00016"), Decimal("0.0004")),
    "okx": (Decimal("0.00015"), Decimal("0.00045")),
    "backpack": (Decimal("0.0001"), Decimal("0.00035")),
    "aster": (Decimal("0.00005"), Decimal("0.0003")),
}


@pytest.fixture
def tiered(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """A simulator whose accounts are on the TIERS fee tiers, every command pointed at it."""
    server = EmbeddedSimulator(None, seed=3, fees=TIERS)
    url = server.start().rstrip("/")
    monkeypatch.setenv("HEDGECTL_SIM_URL", url)
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "2")
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Sim(url=url, http=http)
    server.stop()


def _binance_family(sim: Sim, venue: str, key: str, secret: str) -> Decimal:
    query = urlencode({"symbol": "BTCUSDT", "timestamp": str(int(time.time() * 1000))})
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    reply = sim.http.get(
        f"/{venue}/fapi/v1/commissionRate?{query}&signature={signature}", headers={"X-MBX-APIKEY": key}
    )
    reply.raise_for_status()
    return Decimal(reply.json()["takerCommissionRate"])


def _okx(sim: Sim) -> Decimal:
    path = "/api/v5/account/trade-fee?instType=SWAP&instFamily=BTC-USDT"
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    headers = {
        "OK-ACCESS-KEY": credentials.OKX_API_KEY,
        "OK-ACCESS-PASSPHRASE": credentials.OKX_PASSPHRASE,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": okx_signature(credentials.OKX_API_SECRET, stamp, "GET", path),
    }
    reply = sim.http.get("/okx" + path, headers=headers).json()
    assert reply["code"] == "0", reply
    return -Decimal(reply["data"][0]["takerU"])  # OKX reports a charge as a negative rate


def _backpack(sim: Sim) -> Decimal:
    stamp = str(int(time.time() * 1000))
    message = backpack_signing_string("accountQuery", {}, stamp, "5000")
    headers = {
        "X-API-Key": credentials.BACKPACK_API_KEY,
        "X-Signature": backpack_sign(credentials.BACKPACK_API_SECRET, message),
        "X-Timestamp": stamp,
        "X-Window": "5000",
    }
    reply = sim.http.get("/backpack/api/v1/account", headers=headers)
    reply.raise_for_status()
    return Decimal(reply.json()["futuresTakerFee"]) / 10_000  # basis points


def raw_taker_rates(sim: Sim) -> dict[str, Decimal]:
    """Each venue's account taker rate, from its own signed fee endpoint on the simulator."""
    return {
        "binance": _binance_family(sim, "binance", credentials.BINANCE_API_KEY, credentials.BINANCE_API_SECRET),
        "aster": _binance_family(sim, "aster", credentials.ASTER_API_KEY, credentials.ASTER_API_SECRET),
        "okx": _okx(sim),
        "backpack": _backpack(sim),
    }


def test_scan_prices_every_venue_with_the_accounts_own_taker_tier(tiered: Sim) -> None:
    raw = raw_taker_rates(tiered)
    assert raw == {venue: taker for venue, (_, taker) in TIERS.items()}
    assert all(raw[v] != PUBLISHED_TAKER_FEE_RATE[v] for v in raw)  # so "account" cannot pass by coincidence
    tiered.http.post("/_sim/requests/clear").raise_for_status()
    proc = hedgectl("scan", "--symbols", "BTC", "--venues", "binance,okx,backpack,aster", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    seen: dict[str, set[tuple[Decimal, str]]] = {}
    for opportunity in doc["opportunities"]:
        for side in ("long", "short"):
            fee = opportunity["fees"][side]
            seen.setdefault(opportunity[side], set()).add((Decimal(fee["taker_rate"]), fee["source"]))
    assert seen == {venue: {(rate, "account")} for venue, rate in raw.items()}
    # Each adapter read its venue's fee endpoint once (Backpack's is the account query).
    reads = tiered.requests("fetch_trading_fee") + tiered.requests("fetch_account")
    assert sorted(r["venue"] for r in reads) == ["aster", "backpack", "binance", "okx"]


def test_an_unreadable_fee_tier_falls_back_to_the_published_default_and_says_so(tiered: Sim) -> None:
    tiered.fault(venue="okx", op="fetch_trading_fee", kind="http_500", count=1000)
    proc = hedgectl("scan", "--symbols", "BTC", "--venues", "binance,okx", "--json", "--timeout", "5")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    fees = {o[side]: o["fees"][side] for o in doc["opportunities"] for side in ("long", "short")}
    assert fees["okx"] == {"taker_rate": f"{PUBLISHED_TAKER_FEE_RATE['okx']}", "source": "default"}
    assert fees["binance"] == {"taker_rate": "0.0004", "source": "account"}
