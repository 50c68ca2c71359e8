"""Aster's two auth generations on the wire: legacy V1 HMAC and V3 EIP-712 with µs nonces."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from hedgectl.sim import credentials
from hedgectl.sim.dialects.aster import DOMAIN, MESSAGE_TYPES, recover_signer

from .helpers import binance_query

V1_HEADERS = {"X-MBX-APIKEY": credentials.ASTER_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def v3_sign(
    params: dict[str, str],
    *,
    nonce: int | None = None,
    key: str = credentials.ASTER_PRIVATE_KEY,
    user: str = credentials.ASTER_USER,
    signer: str = credentials.ASTER_SIGNER,
) -> str:
    """Sign as Aster's V3 doc says: business params + nonce/user/signer, EIP-712 over the string."""
    full = {
        **params,
        "nonce": str(nonce if nonce is not None else time.time_ns() // 1000),
        "user": user,
        "signer": signer,
    }
    msg = urlencode(full)
    signable = encode_typed_data(domain_data=DOMAIN, message_types=MESSAGE_TYPES, message_data={"msg": msg})
    signature = Account.sign_message(signable, private_key=key).signature.hex()
    return f"{msg}&signature=0x{signature.removeprefix('0x')}"


def test_recover_signer_matches_the_documented_vector() -> None:
    msg = (
        "symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5&nonce=1748310859508867"
        "&user=0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e&signer=0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
    )
    signature = (
        "0x0a56c5923ebf3524475c5f631940ec4c0e41dbd300ad28198d1915d8f3ca49ce26fd1aeb8b0c3079133595da0de3832"
        "2ae7e860e0c76d032c4a491d27c1430b01C"
    )
    assert recover_signer(msg, signature) == "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
    assert recover_signer(msg, "0x1234") is None


async def test_legacy_v1_hmac_order_and_positions(control: httpx.AsyncClient) -> None:
    body = binance_query(
        {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.5", "newOrderRespType": "RESULT"},
        credentials.ASTER_API_SECRET,
    )
    r = await control.post("/aster/fapi/v1/order", content=body, headers=V1_HEADERS)
    assert (r.status_code, r.json()["status"], r.json()["executedQty"]) == (200, "FILLED", "0.500")
    query = binance_query({}, credentials.ASTER_API_SECRET)
    rows = (await control.get(f"/aster/fapi/v2/positionRisk?{query}", headers=V1_HEADERS)).json()
    eth = next(r for r in rows if r["symbol"] == "ETHUSDT")
    assert (eth["positionAmt"], eth["leverage"], eth["marginType"]) == ("-0.500", "20", "cross")
    balance = (
        await control.get(
            f"/aster/fapi/v2/balance?{binance_query({}, credentials.ASTER_API_SECRET)}", headers=V1_HEADERS
        )
    ).json()
    assert balance[0]["asset"] == "USDT"
    bad = binance_query({}, credentials.BINANCE_API_SECRET)  # another venue's secret
    r = await control.get(f"/aster/fapi/v2/balance?{bad}", headers={"X-MBX-APIKEY": credentials.ASTER_API_KEY})
    assert (r.status_code, r.json()["code"]) == (400, -1022)


async def test_v3_signed_requests_in_query_and_form(control: httpx.AsyncClient) -> None:
    r = await control.get(f"/aster/fapi/v3/balance?{v3_sign({})}")
    assert r.status_code == 200
    assert r.json()[0]["balance"] == "10000.00000000"
    order = v3_sign(
        {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTX", "quantity": "1", "price": "100"}
    )
    r = await control.post("/aster/fapi/v3/order", content=order, headers=FORM)
    assert (r.status_code, r.json()["status"], r.json()["timeInForce"]) == (200, "NEW", "GTX")
    # An agent signing for the main wallet (user != signer) and the wallet signing for itself both work.
    own = v3_sign({}, user=credentials.ASTER_SIGNER)
    assert (await control.get(f"/aster/fapi/v4/account?{own}")).status_code == 200


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("tampered", 400, -1022),
        ("foreign_key", 400, -1022),
        ("unknown_signer", 401, -2015),
        ("stale_nonce", 400, -1021),
        ("missing_user", 400, -1102),
    ],
)
async def test_v3_rejections(control: httpx.AsyncClient, case: str, status: int, code: int) -> None:
    if case == "tampered":
        query = v3_sign({"symbol": "BTCUSDT"}).replace("BTCUSDT", "ETHUSDT")
    elif case == "foreign_key":
        query = v3_sign({}, key="0x" + "22" * 32)
    elif case == "unknown_signer":
        query = v3_sign({}, signer="0x" + "33" * 20)
    elif case == "stale_nonce":
        query = v3_sign({}, nonce=time.time_ns() // 1000 - 20_000_000)
    else:
        query = v3_sign({}).replace(f"user={credentials.ASTER_USER}", "user=")
    r = await control.get(f"/aster/fapi/v3/balance?{query}")
    assert (r.status_code, r.json()["code"]) == (status, code)


async def test_v3_nonce_replay_is_rejected(control: httpx.AsyncClient) -> None:
    query = v3_sign({})
    assert (await control.get(f"/aster/fapi/v3/balance?{query}")).status_code == 200
    r = await control.get(f"/aster/fapi/v3/balance?{query}")
    assert r.json() == {"code": -4225, "msg": "Nonce Expired"}


async def test_sapi_stub_and_funding_intervals(control: httpx.AsyncClient) -> None:
    info = (await control.get("/aster/api/v3/exchangeInfo")).json()
    assert info["symbols"] == []
    assert {"asset": "USDT"} in info["assets"]
    rows = (await control.get("/aster/fapi/v3/fundingInfo")).json()
    hours = {r["symbol"]: r["fundingIntervalHours"] for r in rows}
    assert hours == {"BTCUSDT": 8, "ETHUSDT": 8, "SOLUSDT": 8, "ASTERUSDT": 4}
