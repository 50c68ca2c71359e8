"""Backpack ED25519 signature checks: the documented vectors, ccxt's signing, and each refusal."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from hedgectl.sim.dialects.backpack_auth import (
    BackpackAuthError,
    BackpackKey,
    public_key_of,
    sign,
    signing_string,
    verify_backpack_request,
)

SEED = "4odxgSUxFrC/zsKWZF4OQwYAgnNu9hnWH3NxWfLAPz4="
PUBLIC = "zDIJj9qneWIY0IYZ5aXoHcNMCm+XDhVcTssiT0HyY0A="
KEY = BackpackKey(api_key=PUBLIC, api_secret=SEED)
KEYS = {PUBLIC: KEY}
TS = 1614550000000
CANCEL = {"orderId": 28, "symbol": "BTC_USDT"}


def _headers(signature: str, *, ts: int = TS, window: str | None = "5000") -> dict[str, str]:
    headers = {"X-API-Key": PUBLIC, "X-Signature": signature, "X-Timestamp": str(ts)}
    if window is not None:
        headers["X-Window"] = window
    return headers


def test_the_seed_derives_the_documented_public_key() -> None:
    assert public_key_of(SEED) == PUBLIC


def test_signing_strings_and_signatures_match_the_reference_vectors() -> None:
    message = signing_string("orderCancel", CANCEL, TS, 5000)
    assert message == "instruction=orderCancel&orderId=28&symbol=BTC_USDT&timestamp=1614550000000&window=5000"
    assert sign(SEED, message) == (
        "zEG6YnoeAYkxY4tNgJfWnjcPTBa501irFgBnArYXORzexlr9mrjflWI6Wm/YwimVZGe9PARP/mZxOHXsvhuZBw=="
    )
    assert sign(SEED, signing_string("balanceQuery", {}, TS, 5000)) == (
        "qz9CmzCkuYD4Y2s2ifeL3MBHc3NtCapiiHhZm1px08FqkZFuHSO5sohI+MKABd02yXwf7EviULr6IGRs/kRsDw=="
    )


def test_batch_signing_string_repeats_the_instruction_per_order() -> None:
    orders = [{"symbol": "SOL_USDC_PERP", "side": "Bid"}, {"side": "Ask", "symbol": "SOL_USDC_PERP"}]
    assert signing_string("orderExecute", orders, TS, 5000) == (
        "instruction=orderExecute&side=Bid&symbol=SOL_USDC_PERP&"
        "instruction=orderExecute&side=Ask&symbol=SOL_USDC_PERP&timestamp=1614550000000&window=5000"
    )


def test_booleans_are_signed_lower_case() -> None:
    message = signing_string("orderExecute", {"postOnly": True, "reduceOnly": False}, TS, 5000)
    assert "postOnly=true&reduceOnly=false" in message


def test_a_correct_signature_returns_the_key() -> None:
    signature = sign(SEED, signing_string("orderCancel", CANCEL, TS, 5000))
    assert verify_backpack_request(KEYS, _headers(signature), "orderCancel", CANCEL, TS + 10) is KEY


def test_a_missing_window_header_means_5000_in_the_signed_string() -> None:
    signature = sign(SEED, signing_string("orderCancel", CANCEL, TS, 5000))
    assert verify_backpack_request(KEYS, _headers(signature, window=None), "orderCancel", CANCEL, TS) is KEY


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_ccxt_signing_verifies(method: str) -> None:
    exchange = ccxt.backpack({"apiKey": PUBLIC, "secret": SEED})
    path = "api/v1/order"
    params = {"symbol": "BTC_USDC_PERP", "orderId": "112233", "clientId": 7}
    signed = exchange.sign(path, ["private"], method, dict(params))
    ts = int(signed["headers"]["X-Timestamp"])
    instruction = "orderQuery" if method == "GET" else "orderCancel"
    assert verify_backpack_request(KEYS, signed["headers"], instruction, params, ts) is KEY


def test_ccxt_batch_signing_verifies() -> None:
    exchange = ccxt.backpack({"apiKey": PUBLIC, "secret": SEED})
    orders: list[dict[str, Any]] = [
        {"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Limit", "price": "100", "quantity": "0.01"},
        {"symbol": "BTC_USDC_PERP", "side": "Ask", "orderType": "Market", "quantity": "0.01", "reduceOnly": True},
    ]
    signed = exchange.sign("api/v1/orders", ["private"], "POST", orders)
    ts = int(signed["headers"]["X-Timestamp"])
    assert verify_backpack_request(KEYS, signed["headers"], "orderExecute", orders, ts) is KEY


def test_a_signature_over_other_params_is_invalid() -> None:
    signature = sign(SEED, signing_string("orderCancel", {**CANCEL, "orderId": 29}, TS, 5000))
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, _headers(signature), "orderCancel", CANCEL, TS)
    assert info.value.code == "INVALID_SIGNATURE"


def test_a_signature_for_another_instruction_is_invalid() -> None:
    signature = sign(SEED, signing_string("orderQuery", CANCEL, TS, 5000))
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, _headers(signature), "orderCancel", CANCEL, TS)
    assert info.value.code == "INVALID_SIGNATURE"


def test_garbage_signature_is_invalid_not_a_crash() -> None:
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, _headers("not base64 !!"), "orderCancel", CANCEL, TS)
    assert info.value.code == "INVALID_SIGNATURE"


def test_an_unknown_key_is_unauthorized() -> None:
    other_seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    signature = sign(other_seed, signing_string("orderCancel", CANCEL, TS, 5000))
    headers = {**_headers(signature), "X-API-Key": public_key_of(other_seed)}
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, headers, "orderCancel", CANCEL, TS)
    assert info.value.code == "UNAUTHORIZED"
    assert info.value.http_status == 401


def test_missing_headers_are_unauthorized() -> None:
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, {}, "balanceQuery", {}, TS)
    assert info.value.code == "UNAUTHORIZED"


@pytest.mark.parametrize("now", [TS + 5001, TS - 5001])
def test_a_request_outside_its_window_has_expired(now: int) -> None:
    signature = sign(SEED, signing_string("orderCancel", CANCEL, TS, 5000))
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, _headers(signature), "orderCancel", CANCEL, now)
    assert info.value.code == "INVALID_CLIENT_REQUEST"
    assert info.value.http_status == 400


def test_a_window_above_sixty_seconds_is_refused() -> None:
    signature = sign(SEED, signing_string("orderCancel", CANCEL, TS, 60001))
    with pytest.raises(BackpackAuthError) as info:
        verify_backpack_request(KEYS, _headers(signature, window="60001"), "orderCancel", CANCEL, TS)
    assert info.value.code == "INVALID_CLIENT_REQUEST"


def test_secret_stays_out_of_the_key_repr() -> None:
    assert SEED not in repr(KEY)
