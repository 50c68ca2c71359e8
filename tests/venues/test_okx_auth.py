"""OKX signing: the reference's known answers, ccxt's own signing of the same request (fixed timestamp), keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError
from hedgectl.sim.dialects.okx_auth import OkxKey, parse_okx_timestamp, verify_okx_request
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.okx import auth
from hedgectl.venues.okx.auth import OkxKeys

# exchanges.md §3.2 (computed vectors; a made-up secret)
SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
STAMP = "2020-12-08T09:08:57.715Z"
STAMP_MS = int(datetime(2020, 12, 8, 9, 8, 57, 715000, tzinfo=UTC).timestamp() * 1000)
ORDER_BODY = '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"limit","px":"30000","sz":"1"}'
KEYS = OkxKeys(SecretStr("key-1"), SecretStr(SECRET), SecretStr("pass-phrase"))


def test_timestamp_is_iso_8601_utc_with_milliseconds() -> None:
    assert auth.iso_timestamp(STAMP_MS) == STAMP
    assert auth.iso_timestamp(1_700_000_000_000) == "2023-11-14T22:13:20.000Z"


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/api/v5/account/balance?ccy=BTC", "", "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="),
        ("POST", "/api/v5/trade/order", ORDER_BODY, "PKY6QHog0ROdn4andDo8sywjjMiJLNQxmziFHEmhhZY="),
    ],
)
def test_rest_signature_matches_the_reference_vectors(method: str, path: str, body: str, expected: str) -> None:
    assert auth.signature(SECRET, STAMP, method, path, body) == expected


def test_ws_login_matches_the_reference_vector() -> None:
    signature = auth.ws_signature(SECRET, "1538054050")
    assert signature == "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="
    assert auth.ws_login(KEYS, 1538054050.9) == {
        "op": "login",
        "args": [{"apiKey": "key-1", "passphrase": "pass-phrase", "timestamp": "1538054050", "sign": signature}],
    }


def _ccxt_okx() -> Any:
    exchange = ccxt.okx({"apiKey": "key-1", "secret": SECRET, "password": "pass-phrase"})
    exchange.milliseconds = lambda: STAMP_MS  # ccxt's nonce: milliseconds() - options.timeDifference (0)
    return exchange


def test_a_post_is_signed_exactly_as_ccxt_signs_it() -> None:
    order = {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "side": "sell",
        "sz": "3",
        "clOrdId": "hc1",
        "ordType": "market",
    }
    theirs = _ccxt_okx().sign("trade/order", ["private"], "POST", dict(order))
    body = auth.encode_body(order)
    ours = auth.signed_headers(KEYS, "POST", "/api/v5/trade/order", body, STAMP_MS)
    assert theirs["body"] == body
    assert {k: theirs["headers"][k] for k in ours} == ours


def test_a_get_with_a_query_is_signed_exactly_as_ccxt_signs_it() -> None:
    theirs = _ccxt_okx().sign("trade/order", ["private"], "GET", {"instId": "BTC-USDT-SWAP", "clOrdId": "hc1"})
    path = "/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=hc1"
    assert theirs["url"].endswith(path)
    ours = auth.signed_headers(KEYS, "GET", path, "", STAMP_MS)
    assert ours == theirs["headers"]
    assert "Content-Type" not in ours


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=32)


@given(cid=ids, sz=st.decimals(min_value=1, max_value=10**6, places=1).map(str), at_ms=st.integers(0, 2**42))
def test_every_signed_order_verifies_at_the_simulator(cid: str, sz: str, at_ms: int) -> None:
    body = auth.encode_body({"instId": "BTC-USDT-SWAP", "sz": sz, "clOrdId": cid, "reduceOnly": True})
    headers = auth.signed_headers(KEYS, "POST", "/api/v5/trade/order", body, at_ms)
    stamp = headers[auth.TIMESTAMP_HEADER]
    at = datetime.fromisoformat(stamp.removesuffix("Z")).replace(tzinfo=UTC)
    assert at == datetime.fromtimestamp(at_ms // 1000, tz=UTC) + timedelta(milliseconds=at_ms % 1000)
    key = OkxKey("key-1", SECRET, "pass-phrase")
    now_ms = parse_okx_timestamp(stamp)  # the simulator's clock, read as it reads the header
    assert verify_okx_request({"key-1": key}, headers, "POST", "/api/v5/trade/order", body, now_ms) is key
    assert json.loads(body)["reduceOnly"] is True


def _config(**creds: str) -> VenueConfig:
    return VenueConfig("okx", Mode.LIVE, "https://www.okx.com", credentials={k: SecretStr(v) for k, v in creds.items()})


def test_keys_come_from_the_config_and_a_partial_key_is_a_config_error() -> None:
    assert auth.keys_from_config(_config()) is None
    keys = auth.keys_from_config(_config(api_key="k", api_secret="s", passphrase="p"))
    assert keys is not None
    assert keys.passphrase.get_secret_value() == "p"
    with pytest.raises(ConfigError, match="OKX_PASSPHRASE") as refused:
        auth.keys_from_config(_config(api_key="k", api_secret="secret-value"))
    assert "secret-value" not in str(refused.value)
    assert "secret-value" not in repr(
        auth.keys_from_config(_config(api_key="k", api_secret="secret-value", passphrase="p"))
    )
