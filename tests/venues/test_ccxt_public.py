"""The scan's ccxt reader: every ccxt exception becomes a hedgectl error, and paper mode reads only the simulator."""

from __future__ import annotations

import importlib

import ccxt.async_support as ccxt_async
import pytest

from hedgectl.errors import ConfigError, HedgectlError, RateLimited, SymbolNotListed, Unavailable
from hedgectl.venues.ccxt_public import CcxtPublic

# `ccxt.base` is rebound to a list by ccxt's __init__, so the module is fetched by name.
ccxt_errors = importlib.import_module("ccxt.base.errors")
CLASSES = [getattr(ccxt_errors, n) for n in ccxt_errors.__all__ if n != "error_hierarchy"]


async def _raise(exc: BaseException) -> None:
    raise exc


async def _close(reader: CcxtPublic) -> None:
    """Close as the scan does, without ccxt's 250 ms pause at close (`timeout_on_exit`, there to let TLS
    connections to real hosts wind down): these readers never opened a connection."""
    reader._ex.timeout_on_exit = 0
    await reader.close()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
async def test_every_ccxt_exception_becomes_a_hedgectl_error_naming_the_venue(cls: type[BaseException]) -> None:
    reader = CcxtPublic("okx", name="ccxt:okx")
    try:
        with pytest.raises(HedgectlError) as info:
            await reader._call(_raise(cls("okx GET https://www.okx.com/x?sign=abc boom")))
        assert str(info.value).startswith("ccxt:okx: ")
        assert "sign=abc" not in str(info.value)
    finally:
        await _close(reader)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ccxt_async.BadSymbol("no such market"), SymbolNotListed),
        (ccxt_async.RateLimitExceeded("slow down"), RateLimited),
        (ccxt_async.DDoSProtection("slow down"), RateLimited),
        (ccxt_async.RequestTimeout("timed out"), Unavailable),
        (ccxt_async.NetworkError("reset"), Unavailable),
    ],
)
async def test_the_most_specific_class_wins(exc: BaseException, kind: type[HedgectlError]) -> None:
    reader = CcxtPublic("okx")
    try:
        with pytest.raises(kind):
            await reader._call(_raise(exc))
    finally:
        await _close(reader)


async def test_a_malformed_reply_is_a_bad_response_not_a_traceback() -> None:
    reader = CcxtPublic("okx")
    try:
        with pytest.raises(HedgectlError, match="reply not understood"):
            await reader._call(_raise(KeyError("fundingRate")))
    finally:
        await _close(reader)


def test_paper_mode_refuses_an_exchange_the_simulator_does_not_speak() -> None:
    with pytest.raises(ConfigError, match="paper mode reads only the simulated venues"):
        CcxtPublic("bybit", sim_url="http://127.0.0.1:1")


def test_an_unknown_exchange_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown venue"):
        CcxtPublic("nosuchexchange")
