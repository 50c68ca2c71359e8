"""Binance HMAC signing: ccxt's own `binanceusdm().sign` of the same request is the referee (known answers)."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from urllib.parse import parse_qsl

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from hedgectl.domain.types import Mode, OrderRequest, OrderType, PositionMode, Side, TimeInForce
from hedgectl.venues.binance.auth import signer_from_config
from hedgectl.venues.binance_family.auth import API_KEY_HEADER, sign_binance
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.config import VenueConfig

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"  # Binance's documented example key
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
TIMESTAMP = 1_700_000_000_123
RECV_WINDOW = 5000


def ccxt_signed(path: str, method: str, params: dict[str, str], timestamp: int = TIMESTAMP) -> dict[str, object]:
    """What ccxt would send for this request at `timestamp` (its fapiPrivate route, its own signing)."""
    ex = ccxt.binanceusdm({"apiKey": KEY, "secret": SECRET, "options": {"recvWindow": RECV_WINDOW}})
    ex.nonce = lambda: timestamp
    return ex.sign(path, ["fapiPrivate"], method, dict(params))  # type: ignore[no-any-return]


ORDER = OrderRequest(
    "BTC", Side.BUY, OrderType.LIMIT, Decimal("0.010"), "hc0123456789abcdef", price=Decimal("95000.10"),
    time_in_force=TimeInForce.POST_ONLY,
)  # fmt: skip


@pytest.mark.parametrize("mode", [PositionMode.ONE_WAY, PositionMode.HEDGE])
def test_an_order_post_is_signed_byte_for_byte_as_ccxt_signs_it(mode: PositionMode) -> None:
    params = FamilyParser("binance").to_wire_order("BTCUSDT", ORDER, mode)
    ours = sign_binance(KEY, SECRET, params, timestamp_ms=TIMESTAMP, recv_window_ms=RECV_WINDOW)
    theirs = ccxt_signed("order", "POST", dict(params))
    assert ours.params == theirs["body"]  # the same query string, the same signature
    assert ours.headers == {API_KEY_HEADER: KEY}
    assert theirs["headers"] == {API_KEY_HEADER: KEY, "Content-Type": "application/x-www-form-urlencoded"}


def test_a_signed_read_is_the_query_ccxt_puts_in_its_url() -> None:
    params = [("symbol", "BTCUSDT"), ("origClientOrderId", "hc0123456789abcdef")]
    ours = sign_binance(KEY, SECRET, params, timestamp_ms=TIMESTAMP, recv_window_ms=RECV_WINDOW)
    theirs = ccxt_signed("order", "GET", dict(params))
    assert str(theirs["url"]).endswith("/fapi/v1/order?" + ours.params)


@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(["symbol", "quantity", "price", "orderId", "startTime"]),
            st.from_regex(r"[A-Z0-9.]{1,12}", fullmatch=True),
        ),
        max_size=5,
        unique_by=lambda kv: kv[0],
    ),
    timestamp=st.integers(min_value=1, max_value=10**13),
)
def test_any_request_signs_exactly_the_string_sent_and_agrees_with_ccxt(
    params: list[tuple[str, str]], timestamp: int
) -> None:
    ours = sign_binance(KEY, SECRET, params, timestamp_ms=timestamp, recv_window_ms=RECV_WINDOW)
    payload, _, signature = ours.params.rpartition("&signature=")
    assert hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest() == signature
    sent = parse_qsl(payload)
    assert sent[0] == ("timestamp", str(timestamp))
    assert sent[-1] == ("recvWindow", str(RECV_WINDOW))
    assert sent[1:-1] == params
    assert str(ccxt_signed("userTrades", "GET", dict(params), timestamp)["url"]).endswith("?" + ours.params)


def test_no_signer_without_both_keys_and_its_repr_holds_no_secret() -> None:
    def config(**creds: str) -> VenueConfig:
        secrets = {k: SecretStr(v) for k, v in creds.items()}
        return VenueConfig("binance", Mode.LIVE, "https://fapi.binance.com", credentials=secrets)

    assert signer_from_config(config(api_key=KEY)) is None
    signer = signer_from_config(config(api_key=KEY, api_secret=SECRET))
    assert signer is not None
    assert KEY not in repr(signer)
    assert SECRET not in repr(signer)
