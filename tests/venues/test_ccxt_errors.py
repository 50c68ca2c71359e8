"""ccxt exceptions -> hedgectl errors: every ccxt class mapped, venue codes first, no secrets in messages."""

from __future__ import annotations

import importlib
import json

import aiohttp
import ccxt
import pytest

from hedgectl.errors import (
    AuthError,
    BadResponse,
    ConfigError,
    HedgectlError,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    VenueError,
)
from hedgectl.venues.ccxt_errors import CCXT_CLASS_RULES, map_ccxt_error, scrub, venue_code, venue_error

# `ccxt.base` is rebound to a list by ccxt's __init__, so the module is fetched by name.
ccxt_errors = importlib.import_module("ccxt.base.errors")

SIM_URL = "http://127.0.0.1:8765/binance/fapi/v1/order"
SIGNED_URL = "https://fapi.binance.com/fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature=deadbeefcafe"
SECRET = "da7789cf52ed5d4cbbc9849872be220399632508"


def _ccxt_classes() -> list[type[BaseException]]:
    names = [n for n in ccxt_errors.__all__ if n != "error_hierarchy"]
    return [getattr(ccxt_errors, n) for n in names]


def test_every_ccxt_exception_class_has_an_explicit_rule() -> None:
    unmapped = [cls.__name__ for cls in _ccxt_classes() if cls.__name__ not in CCXT_CLASS_RULES]
    assert unmapped == [], f"decide how these ccxt exceptions map: {unmapped}"


def test_the_rule_table_names_only_real_ccxt_classes() -> None:
    stale = set(CCXT_CLASS_RULES) - {cls.__name__ for cls in _ccxt_classes()}
    assert stale == set()


@pytest.mark.parametrize("cls", _ccxt_classes(), ids=lambda c: c.__name__)
def test_every_ccxt_exception_maps_to_a_hedgectl_error_without_the_signed_query(cls: type[BaseException]) -> None:
    exc = cls(f"binanceusdm POST {SIGNED_URL} 400 Bad Request")
    mapped = map_ccxt_error(exc, "binance", secrets=(SECRET,))
    assert isinstance(mapped.error, HedgectlError)
    assert type(mapped.error) is CCXT_CLASS_RULES[cls.__name__].error
    assert "signature" not in str(mapped.error)
    assert "timestamp=" not in str(mapped.error)
    assert str(mapped.error).startswith("binance: ")


@pytest.mark.parametrize(
    ("cls", "expected", "unknown_outcome"),
    [
        (ccxt.AuthenticationError, AuthError, False),
        (ccxt.PermissionDenied, AuthError, False),
        (ccxt.AccountSuspended, AuthError, False),
        (ccxt.InsufficientFunds, InsufficientFunds, False),
        (ccxt.OrderNotFound, OrderNotFound, False),
        (ccxt.InvalidOrder, OrderRejected, False),
        (ccxt.OrderNotFillable, OrderRejected, False),
        (ccxt.BadRequest, OrderRejected, False),
        (ccxt.BadSymbol, SymbolNotListed, False),
        (ccxt.DDoSProtection, RateLimited, False),
        (ccxt.RateLimitExceeded, RateLimited, False),
        (ccxt.RequestTimeout, Unavailable, True),
        (ccxt.NetworkError, Unavailable, True),
        (ccxt.ExchangeNotAvailable, Unavailable, True),
        (ccxt.OnMaintenance, Unavailable, False),
        (ccxt.BadResponse, BadResponse, True),
        (ccxt.NullResponse, BadResponse, True),
        (ccxt.ExchangeError, VenueError, False),
        (ccxt.InvalidProxySettings, ConfigError, False),
    ],
)
def test_ccxt_class_mapping_most_specific_first(
    cls: type[BaseException], expected: type[HedgectlError], unknown_outcome: bool
) -> None:
    mapped = map_ccxt_error(cls("okx something failed"), "okx")
    assert type(mapped.error) is expected
    assert mapped.unknown_outcome is unknown_outcome


def test_invalid_nonce_asks_for_a_clock_resync() -> None:
    mapped = map_ccxt_error(ccxt.InvalidNonce("binanceusdm timestamp"), "binance")
    assert mapped.clock_skew
    assert isinstance(mapped.error, Unavailable)


def _binance_error_via_ccxt(url: str, status: int, body: dict[str, object]) -> BaseException:
    """Let ccxt's own binanceusdm.handle_errors raise what it raises for this reply."""
    exchange = ccxt.binanceusdm()
    text = json.dumps(body)
    try:
        exchange.handle_errors(status, "Bad Request", url, "POST", {}, text, body, {}, "")
        exchange.handle_http_status_code(status, "Bad Request", url, "POST", text)
    except ccxt.BaseError as exc:
        raised: BaseException = exc
        return raised
    raise AssertionError("ccxt raised nothing")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (-2019, InsufficientFunds),
        (-2018, InsufficientFunds),
        (-4164, OrderRejected),
        (-2022, OrderRejected),
        (-5022, OrderRejected),
        (-1111, OrderRejected),
        (-4014, OrderRejected),
        (-4023, OrderRejected),
        (-2011, OrderNotFound),
        (-2013, OrderNotFound),
        (-1121, SymbolNotListed),
        (-1022, AuthError),
        (-2015, AuthError),
        (-1003, RateLimited),
    ],
)
def test_binance_codes_map_exactly_even_where_ccxt_leaves_a_generic_class(
    code: int, expected: type[HedgectlError]
) -> None:
    # Against the simulator's URL ccxt only applies Binance's global table (reference §2.5).
    exc = _binance_error_via_ccxt(SIM_URL, 400, {"code": code, "msg": "Venue says no."})
    mapped = map_ccxt_error(exc, "binance")
    assert type(mapped.error) is expected
    assert isinstance(mapped.error, VenueError)
    assert mapped.error.code == str(code)
    assert str(mapped.error) == f"binance: Venue says no. (code {code})"


def test_ccxt_leaves_insufficient_margin_generic_against_a_non_production_url() -> None:
    exc = _binance_error_via_ccxt(SIM_URL, 400, {"code": -2019, "msg": "Margin is insufficient."})
    assert type(exc) is ccxt.ExchangeError  # the gotcha the venue-code table exists for


def test_binance_timestamp_outside_recv_window_resyncs_the_clock() -> None:
    exc = _binance_error_via_ccxt(SIM_URL, 400, {"code": -1021, "msg": "Timestamp outside recvWindow."})
    mapped = map_ccxt_error(exc, "binance")
    assert mapped.clock_skew
    assert not mapped.unknown_outcome


def test_binance_503_execution_unknown_is_an_unknown_outcome() -> None:
    exc = _binance_error_via_ccxt(SIM_URL, 503, {"code": -1007, "msg": "Timeout waiting for response."})
    mapped = map_ccxt_error(exc, "binance")
    assert mapped.unknown_outcome
    assert isinstance(mapped.error, Unavailable)


def test_okx_per_order_code_wins_over_the_generic_top_level_code() -> None:
    body = {"code": "1", "msg": "", "data": [{"sCode": "51008", "sMsg": "Insufficient margin", "ordId": ""}]}
    okx = ccxt.okx()
    with pytest.raises(ccxt.BaseError) as info:
        okx.handle_errors(
            200, "OK", "http://127.0.0.1/okx/api/v5/trade/order", "POST", {}, json.dumps(body), body, {}, ""
        )
    mapped = map_ccxt_error(info.value, "okx")
    assert type(mapped.error) is InsufficientFunds
    assert str(mapped.error) == "okx: Insufficient margin (code 51008)"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("51121", OrderRejected), ("51603", OrderNotFound), ("51001", SymbolNotListed), ("9999", OrderRejected)],
)
def test_okx_codes_in_a_successful_envelope_become_errors(code: str, expected: type[HedgectlError]) -> None:
    assert type(venue_error("okx", code, "no")) is expected


def test_an_exchange_error_that_wraps_a_transport_failure_is_an_unknown_outcome() -> None:
    try:
        try:
            raise aiohttp.ClientPayloadError("truncated")
        except aiohttp.ClientError as inner:
            raise ccxt.ExchangeError("binanceusdm POST http://x/fapi/v1/order") from inner
    except ccxt.ExchangeError as exc:
        mapped = map_ccxt_error(exc, "binance")
    assert mapped.unknown_outcome
    assert isinstance(mapped.error, Unavailable)


def test_raw_transport_errors_are_unknown_outcomes() -> None:
    assert map_ccxt_error(TimeoutError(), "okx").unknown_outcome
    assert map_ccxt_error(ConnectionResetError("reset"), "okx").unknown_outcome


def test_hedgectl_errors_pass_through_untouched() -> None:
    original = ConfigError("binance: refusing")
    assert map_ccxt_error(original, "binance").error is original


def test_messages_never_carry_query_strings_or_credentials() -> None:
    raw = f"binanceusdm GET {SIGNED_URL} 500 Internal Server Error <html>key {SECRET}</html>"
    mapped = map_ccxt_error(ccxt.ExchangeNotAvailable(raw), "binance", secrets=(SECRET,))
    text = str(mapped.error)
    assert SECRET not in text
    assert "signature" not in text
    assert "https://fapi.binance.com/fapi/v1/order" in text


def test_scrub_keeps_one_short_line() -> None:
    cleaned = scrub("a\n\n b " + "x" * 500)
    assert "\n" not in cleaned
    assert len(cleaned) <= 200


def test_venue_code_reads_binance_and_okx_bodies() -> None:
    assert venue_code('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}') == (
        "-2019",
        "Margin is insufficient.",
    )
    assert venue_code('okx {"code":"50011","msg":"Too Many Requests","data":[]}') == ("50011", "Too Many Requests")
    assert venue_code("okx GET http://x 500 <html>") == (None, None)
