"""The account's own taker fee tier on every native adapter (issue 18): the signed request each venue is sent,
the rate read from its reply (Binance and Aster a fraction, OKX a negated fraction, Backpack basis points), the
read cached per session, a garbled reply refused, and the read-only wrapper passing it through."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.errors import BadResponse, ConfigError, SymbolNotListed
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.backpack import auth as backpack_auth
from hedgectl.venues.backpack import parse as backpack_parse
from hedgectl.venues.base import AccountFees
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.kit.fees import MAX_FEE_RATE, check_fee_rate
from hedgectl.venues.okx import parse as okx_parse
from hedgectl.venues.read_only import read_only
from tests.venues import test_aster_venue as aster_t
from tests.venues import test_backpack_venue as backpack_t
from tests.venues import test_binance_venue as binance_t
from tests.venues import test_okx_venue as okx_t
from tests.venues.okx_samples import instrument, ok

# Rates as the venues write them: any number of places, as a string or a JSON number.
RATES = st.decimals(min_value=0, max_value=MAX_FEE_RATE, places=8, allow_nan=False, allow_infinity=False)


def _as_wire(value: Decimal, as_text: bool) -> Any:
    return f"{value:f}" if as_text else value


# ---- Binance ----------------------------------------------------------------------------------------------


@pytest.fixture
def binance_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=binance_t.BASE, assert_all_called=True, assert_all_mocked=True) as router:
        router.get("/fapi/v1/exchangeInfo").respond(json=binance_t.EXCHANGE_INFO)
        router.get("/fapi/v1/time").mock(
            side_effect=lambda _: httpx.Response(200, json={"serverTime": int(time.time() * 1000)})
        )
        yield router


async def test_binance_reads_the_taker_rate_signed_once_per_symbol(binance_mock: respx.MockRouter) -> None:
    route = binance_mock.get("/fapi/v1/commissionRate").respond(
        json={"symbol": "BTCUSDT", "makerCommissionRate": "0.000160", "takerCommissionRate": "0.000400"}
    )
    venue = binance_t._venue()
    try:
        assert isinstance(venue, AccountFees)
        assert await venue.fetch_taker_fee_rate("btc") == Decimal("0.0004")
        assert await venue.fetch_taker_fee_rate("BTC") == Decimal("0.0004")  # cached: one request
        assert route.call_count == 1
        assert dict(binance_t.sent(route.calls[0].request))["symbol"] == "BTCUSDT"
    finally:
        await venue.close()


async def test_binance_a_fee_read_is_not_cached_when_it_fails(binance_mock: respx.MockRouter) -> None:
    route = binance_mock.get("/fapi/v1/commissionRate")
    route.side_effect = [
        httpx.Response(200, json={"symbol": "BTCUSDT", "takerCommissionRate": "5"}),  # 500 %: a unit read wrong
        httpx.Response(200, json={"symbol": "BTCUSDT", "takerCommissionRate": "0.0005"}),
    ]
    venue = binance_t._venue()
    try:
        with pytest.raises(BadResponse, match="commissionRate"):
            await venue.fetch_taker_fee_rate("BTC")
        assert await venue.fetch_taker_fee_rate("BTC") == Decimal("0.0005")
    finally:
        await venue.close()


@given(rate=RATES, as_text=st.booleans())
def test_binance_family_parses_the_taker_rate_in_either_representation(rate: Decimal, as_text: bool) -> None:
    wire = {"symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": _as_wire(rate, as_text)}
    assert FamilyParser("binance").taker_fee_rate(wire, "BTCUSDT") == rate


@pytest.mark.parametrize(
    "wire",
    [
        {"symbol": "BTCUSDT"},
        {"symbol": "BTCUSDT", "takerCommissionRate": ""},
        {"symbol": "BTCUSDT", "takerCommissionRate": "n/a"},
        {"symbol": "BTCUSDT", "takerCommissionRate": "-0.02"},
        {"symbol": "ETHUSDT", "takerCommissionRate": "0.0004"},
        [],
    ],
)
def test_binance_family_refuses_a_garbled_commission_reply(wire: Any) -> None:
    with pytest.raises(BadResponse):
        FamilyParser("aster").taker_fee_rate(wire, "BTCUSDT")


# ---- Aster (both auth generations) ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", [aster_t.V1, aster_t.V3], ids=["v1", "v3"])
async def test_aster_reads_the_taker_rate_on_its_auth_generations_path(scheme: Any) -> None:
    with respx.mock(base_url=aster_t.BASE, assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(scheme.path("exchangeInfo")).respond(json=aster_t.EXCHANGE_INFO)
        mock.get(scheme.path("time")).mock(
            side_effect=lambda _: httpx.Response(
                200, json={"serverTime": int(time.time() * 1000) + aster_t.SERVER_AHEAD_MS}
            )
        )
        path = f"/fapi/{'v3' if scheme.name == 'v3' else 'v1'}/commissionRate"
        route = mock.get(path).respond(
            json={"symbol": "BTCUSDT", "makerCommissionRate": 0.0001, "takerCommissionRate": 0.00035}
        )
        venue = aster_t._venue(scheme)
        try:
            assert await venue.fetch_taker_fee_rate("BTC") == Decimal("0.00035")
            assert dict(aster_t.signed_params(route.calls[0].request, scheme))["symbol"] == "BTCUSDT"
        finally:
            await venue.close()


# ---- OKX --------------------------------------------------------------------------------------------------


def _fee_row(taker_u: Any, **over: Any) -> dict[str, Any]:
    row = {
        "category": "1", "delivery": "", "exercise": "", "instType": "SWAP", "level": "Lv1", "maker": "-0.0003",
        "taker": "-0.0007", "makerU": "-0.0002", "takerU": taker_u, "makerUSDC": "-0.0002", "takerUSDC": "-0.0005",
        "ruleType": "normal", "ts": "1765000000000", "fiat": [],
    }  # fmt: skip
    row.update(over)
    return row


async def test_okx_reads_the_usdt_margined_taker_rate_as_a_positive_charge_for_the_family(
    okx_mock: respx.MockRouter,
) -> None:
    route = okx_mock.get("/api/v5/account/trade-fee").respond(json=ok([_fee_row("-0.00045")]))
    venue = okx_t._venue()
    try:
        assert await venue.fetch_taker_fee_rate("BTC") == Decimal("0.00045")  # takerU, not the coin-margined taker
        assert await venue.fetch_taker_fee_rate("btc") == Decimal("0.00045")
        assert route.call_count == 1
        request = route.calls[0].request
        assert dict(request.url.params) == {"instType": "SWAP", "instFamily": "BTC-USDT"}
        assert request.headers[okx_t.auth.SIGN_HEADER] == okx_t._signed_over(request)
        with pytest.raises(SymbolNotListed):
            await venue.fetch_taker_fee_rate("DOGE")
    finally:
        await venue.close()


@pytest.fixture
def okx_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=okx_t.BASE, assert_all_called=True, assert_all_mocked=True) as router:
        router.get("/api/v5/public/time").mock(side_effect=lambda _r: httpx.Response(200, json=okx_t._server_time()))
        router.get("/api/v5/public/instruments").respond(json=ok([instrument(), instrument("ETH")]))
        yield router


@given(rate=RATES, as_text=st.booleans())
def test_okx_negates_the_charge_it_reports_in_either_representation(rate: Decimal, as_text: bool) -> None:
    assert okx_parse.parse_taker_fee_rate(ok([_fee_row(_as_wire(-rate, as_text))]), "BTC-USDT") == rate


def test_okx_a_rebate_reads_as_a_negative_rate() -> None:
    assert okx_parse.parse_taker_fee_rate(ok([_fee_row("0.0001")]), "BTC-USDT") == Decimal("-0.0001")


@pytest.mark.parametrize(
    "reply",
    [
        ok([]),
        ok([_fee_row("")]),
        ok([{k: v for k, v in _fee_row("-0.0005").items() if k != "takerU"}]),
        ok([_fee_row("-0.5")]),
        ok([_fee_row("-0.0005", instFamily="ETH-USDT")]),
        {"code": "0"},
    ],
)
def test_okx_refuses_a_garbled_fee_reply(reply: Any) -> None:
    with pytest.raises(BadResponse):
        okx_parse.parse_taker_fee_rate(reply, "BTC-USDT")


# ---- Backpack ---------------------------------------------------------------------------------------------


def _account(taker: Any) -> dict[str, Any]:
    return {
        "autoBorrowSettlements": True, "autoLend": False, "autoRealizePnl": True, "autoRepayBorrows": True,
        "borrowLimit": "0", "futuresMakerFee": "2", "futuresTakerFee": taker, "leverageLimit": "10",
        "limitOrders": 1000, "liquidating": False, "positionLimit": "1000000", "spotMakerFee": "8",
        "spotTakerFee": "10", "triggerOrders": 0,
    }  # fmt: skip


async def test_backpack_reads_the_futures_taker_tier_in_basis_points_once_for_every_market() -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        backpack_t.mock_markets(mock)
        backpack_t.mock_time(mock)
        route = mock.get(backpack_t.BASE + "/api/v1/account").respond(json=_account("3.5"))
        venue = BackpackVenue(backpack_t.make_config())
        try:
            assert isinstance(venue, AccountFees)
            assert await venue.fetch_taker_fee_rate("BTC") == Decimal("0.00035")
            assert await venue.fetch_taker_fee_rate("SOL") == Decimal("0.00035")  # one account-wide tier
            assert route.call_count == 1
            headers = route.calls[0].request.headers
            message = backpack_auth.signing_string(
                "accountQuery", None, int(headers["X-Timestamp"]), int(headers["X-Window"])
            )
            verify = backpack_auth.signing_key(backpack_t.SEED).verify_key
            verify.verify(message.encode(), base64.b64decode(headers["X-Signature"]))
            with pytest.raises(SymbolNotListed):
                await venue.fetch_taker_fee_rate("NOPE")
        finally:
            await venue.close()


@given(bps=st.decimals(min_value=0, max_value=100, places=2), as_text=st.booleans())
def test_backpack_basis_points_become_a_fraction(bps: Decimal, as_text: bool) -> None:
    assert backpack_parse.parse_taker_fee_rate(_account(_as_wire(bps, as_text))) == bps / 10_000


@pytest.mark.parametrize("taker", [None, "", "-1", "five", "250"])
def test_backpack_refuses_a_garbled_account_fee(taker: Any) -> None:
    with pytest.raises(BadResponse):
        backpack_parse.parse_taker_fee_rate(_account(taker))


# ---- shared -----------------------------------------------------------------------------------------------


@given(rate=st.decimals(allow_nan=False, allow_infinity=False, places=10, min_value=-1, max_value=1))
def test_a_fee_rate_beyond_one_percent_is_refused_and_any_other_kept(rate: Decimal) -> None:
    if abs(rate) > MAX_FEE_RATE:
        with pytest.raises(BadResponse, match="beyond"):
            check_fee_rate("okx", rate, "account/trade-fee")
    else:
        assert check_fee_rate("okx", rate, "account/trade-fee") == rate


async def test_the_read_only_wrapper_passes_the_fee_read_through_only_where_the_adapter_has_it() -> None:
    binance, backpack = binance_t._venue(), BackpackVenue(backpack_t.make_config())
    try:
        for adapter in (binance, backpack):
            wrapped = read_only(adapter)  # type: ignore[arg-type]
            assert isinstance(wrapped, AccountFees)
        plain = read_only(_NoFees())  # type: ignore[arg-type]
        assert not isinstance(plain, AccountFees)
    finally:
        await binance.close()
        await backpack.close()


async def test_the_read_only_wrapper_returns_the_adapters_rate(binance_mock: respx.MockRouter) -> None:
    binance_mock.get("/fapi/v1/commissionRate").respond(json={"symbol": "BTCUSDT", "takerCommissionRate": "0.00036"})
    venue = binance_t._venue()
    try:
        wrapped = read_only(venue)
        assert isinstance(wrapped, AccountFees)
        assert await wrapped.fetch_taker_fee_rate("BTC") == Decimal("0.00036")
    finally:
        await venue.close()


class _NoFees:
    name, mode, host = "x", None, "https://x.invalid"


async def test_without_keys_the_fee_read_is_a_config_error_before_anything_is_signed_or_sent() -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        mock.get(binance_t.BASE + "/fapi/v1/exchangeInfo").respond(json=binance_t.EXCHANGE_INFO)
        mock.get(okx_t.BASE + "/api/v5/public/instruments").respond(json=ok([instrument()]))
        okx = okx_t._venue(okx_t._config(creds={}))
        binance = binance_t._venue(api_key="", api_secret="")
        try:
            with pytest.raises(ConfigError, match="credentials"):
                await okx.fetch_taker_fee_rate("BTC")
            with pytest.raises(ConfigError, match="credentials"):
                await binance.fetch_taker_fee_rate("BTC")
            paths = {c.request.url.path for c in mock.calls}
            assert paths == {"/fapi/v1/exchangeInfo", "/api/v5/public/instruments"}  # nothing signed, nothing sent
        finally:
            await okx.close()
            await binance.close()
