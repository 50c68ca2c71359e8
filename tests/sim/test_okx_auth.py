"""OKX signature checks: known-answer vectors, ccxt's own signing, and each refusal OKX makes."""

from __future__ import annotations

import ccxt
import pytest

from hedgectl.sim.dialects.okx_auth import (
    OkxAuthError,
    OkxKey,
    okx_signature,
    parse_okx_timestamp,
    verify_okx_request,
)

SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
KEY = OkxKey(api_key="k-1", api_secret=SECRET, passphrase="pass-1")
KEYS = {KEY.api_key: KEY}
TS = "2020-12-08T09:08:57.715Z"
TS_MS = parse_okx_timestamp(TS)
BODY = '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"limit","px":"30000","sz":"1"}'


def _headers(**overrides: str) -> dict[str, str]:
    headers = {
        "OK-ACCESS-KEY": KEY.api_key,
        "OK-ACCESS-PASSPHRASE": KEY.passphrase,
        "OK-ACCESS-TIMESTAMP": TS,
        "OK-ACCESS-SIGN": okx_signature(SECRET, TS, "POST", "/api/v5/trade/order", BODY),
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v}


def test_signature_matches_the_reference_vectors() -> None:
    assert okx_signature(SECRET, TS, "GET", "/api/v5/account/balance?ccy=BTC") == (
        "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
    )
    assert okx_signature(SECRET, TS, "POST", "/api/v5/trade/order", BODY) == (
        "PKY6QHog0ROdn4andDo8sywjjMiJLNQxmziFHEmhhZY="
    )


def test_timestamp_parses_to_epoch_ms() -> None:
    assert TS_MS == 1607418537715
    with pytest.raises(ValueError, match="ISO"):
        parse_okx_timestamp("1607418537715")


def test_a_correctly_signed_request_returns_its_key() -> None:
    assert verify_okx_request(KEYS, _headers(), "POST", "/api/v5/trade/order", BODY, TS_MS) is KEY


def test_ccxt_signing_of_a_get_with_query_verifies() -> None:
    exchange = ccxt.okx({"apiKey": KEY.api_key, "secret": SECRET, "password": KEY.passphrase})
    signed = exchange.sign("account/balance", ["private"], "GET", {"ccy": "USDT"})
    path = signed["url"].split("www.okx.com", 1)[1]
    assert path == "/api/v5/account/balance?ccy=USDT"
    ts_ms = parse_okx_timestamp(signed["headers"]["OK-ACCESS-TIMESTAMP"])
    assert verify_okx_request(KEYS, signed["headers"], "GET", path, "", ts_ms) is KEY


def test_ccxt_signing_of_a_batch_body_verifies() -> None:
    exchange = ccxt.okx({"apiKey": KEY.api_key, "secret": SECRET, "password": KEY.passphrase})
    orders = [{"instId": "BTC-USDT-SWAP", "side": "buy", "ordType": "market", "sz": "1", "tdMode": "cross"}]
    signed = exchange.sign("trade/batch-orders", ["private"], "POST", orders)
    ts_ms = parse_okx_timestamp(signed["headers"]["OK-ACCESS-TIMESTAMP"])
    key = verify_okx_request(KEYS, signed["headers"], "POST", "/api/v5/trade/batch-orders", signed["body"], ts_ms)
    assert key is KEY


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"OK-ACCESS-KEY": ""}, "50103"),
        ({"OK-ACCESS-PASSPHRASE": ""}, "50104"),
        ({"OK-ACCESS-SIGN": ""}, "50106"),
        ({"OK-ACCESS-TIMESTAMP": ""}, "50107"),
        ({"OK-ACCESS-TIMESTAMP": "yesterday"}, "50112"),
        ({"OK-ACCESS-KEY": "someone-else"}, "50111"),
        ({"OK-ACCESS-PASSPHRASE": "wrong"}, "50105"),
        ({"OK-ACCESS-SIGN": okx_signature("other-secret", TS, "POST", "/api/v5/trade/order", BODY)}, "50113"),
    ],
)
def test_each_bad_header_is_refused_with_okx_code(overrides: dict[str, str], code: str) -> None:
    with pytest.raises(OkxAuthError) as info:
        verify_okx_request(KEYS, _headers(**overrides), "POST", "/api/v5/trade/order", BODY, TS_MS)
    assert info.value.code == code
    assert info.value.http_status == 401


def test_a_tampered_body_fails_the_signature() -> None:
    tampered = BODY.replace('"sz":"1"', '"sz":"100"')
    with pytest.raises(OkxAuthError) as info:
        verify_okx_request(KEYS, _headers(), "POST", "/api/v5/trade/order", tampered, TS_MS)
    assert info.value.code == "50113"


@pytest.mark.parametrize("skew_ms", [30_001, -30_001])
def test_a_timestamp_outside_thirty_seconds_has_expired(skew_ms: int) -> None:
    with pytest.raises(OkxAuthError) as info:
        verify_okx_request(KEYS, _headers(), "POST", "/api/v5/trade/order", BODY, TS_MS + skew_ms)
    assert info.value.code == "50102"


def test_secrets_stay_out_of_the_key_repr() -> None:
    assert SECRET not in repr(KEY)
    assert KEY.passphrase not in repr(KEY)
