"""Translate ccxt's exceptions (and the venue codes inside them) into hedgectl's error tree, in one place.

Two tables, most specific first:

1. the venue's own error code, read from the reply body ccxt quotes in its message. ccxt uses Binance's
   USDⓈ-M code table only for production/demo URLs, so against any other URL (the simulator) codes such as
   -2019 arrive as a plain `ExchangeError`; the code still says exactly what happened.
2. ccxt's exception class, walked up its MRO. Every class ccxt.base.errors exports has an explicit row
   (tests/venues/test_ccxt_errors.py fails when ccxt adds one we have not decided on).

This module does not import ccxt: it matches classes by name inside the `ccxt.base.errors` module, so it
needs no exemption from the import ban and stays importable without ccxt.

Messages are rebuilt from the venue's code and text only: no URL query strings (Binance signs there), no
headers, no credential values.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

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
from hedgectl.venues.kit.transport import causes, describe_transport
from hedgectl.venues.kit.transport import scrub as scrub_secrets

CCXT_ERRORS_MODULE = "ccxt.base.errors"
_MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class Rule:
    """How one ccxt class (or venue code) maps: our error type, and what it says about an order POST."""

    error: type[HedgectlError]
    unknown_outcome: bool = False  # the request may have taken effect: reconcile, never resend
    clock_skew: bool = False  # our timestamp was refused: resync the clock, then one retry for reads


_AUTH = Rule(AuthError)
_REJECT = Rule(OrderRejected)
_FUNDS = Rule(InsufficientFunds)
_NOT_FOUND = Rule(OrderNotFound)
_SYMBOL = Rule(SymbolNotListed)
_LIMITED = Rule(RateLimited)
_NONCE = Rule(Unavailable, clock_skew=True)
_UNKNOWN = Rule(Unavailable, unknown_outcome=True)
_DOWN = Rule(Unavailable)
_GARBLED = Rule(BadResponse, unknown_outcome=True)
_OTHER = Rule(VenueError)

# Every class in ccxt.base.errors, by name. Outcome-unknown classes are the transport failures: the request
# may have reached the venue before the reply was lost.
CCXT_CLASS_RULES: dict[str, Rule] = {
    "BaseError": _OTHER,
    "ExchangeError": _OTHER,
    "AuthenticationError": _AUTH,
    "PermissionDenied": _AUTH,
    "AccountNotEnabled": _AUTH,
    "AccountSuspended": _AUTH,
    "RestrictedLocation": _AUTH,
    "ArgumentsRequired": _REJECT,
    "BadRequest": _REJECT,
    "BadSymbol": _SYMBOL,
    "OperationRejected": _REJECT,
    "NoChange": _REJECT,
    "MarginModeAlreadySet": _REJECT,
    "MarketClosed": _REJECT,
    "ManualInteractionNeeded": _REJECT,
    "InsufficientFunds": _FUNDS,
    "InvalidAddress": _REJECT,
    "AddressPending": _REJECT,
    "InvalidOrder": _REJECT,
    "OrderNotFound": _NOT_FOUND,
    "OrderNotCached": _NOT_FOUND,
    "OrderImmediatelyFillable": _REJECT,
    "OrderNotFillable": _REJECT,
    "DuplicateOrderId": _REJECT,
    "ContractUnavailable": _REJECT,
    "NotSupported": _OTHER,
    "InvalidProxySettings": Rule(ConfigError),
    "ExchangeClosedByUser": _OTHER,
    "OperationFailed": _UNKNOWN,
    "NetworkError": _UNKNOWN,
    "DDoSProtection": _LIMITED,
    "RateLimitExceeded": _LIMITED,
    "ExchangeNotAvailable": _UNKNOWN,  # also a dropped connection and Binance's 503 "execution status unknown"
    "OnMaintenance": _DOWN,
    "InvalidNonce": _NONCE,
    "ChecksumError": _DOWN,
    "RequestTimeout": _UNKNOWN,
    "BadResponse": _GARBLED,
    "NullResponse": _GARBLED,
    "CancelPending": _UNKNOWN,
    "UnsubscribeError": _OTHER,
}

# Venue codes that say exactly what happened, whatever class ccxt picked (reference §2.5, §3.5).
VENUE_CODE_RULES: dict[str, dict[str, Rule]] = {
    "binance": {
        **dict.fromkeys(["-2018", "-2019"], _FUNDS),
        **dict.fromkeys(["-1013", "-1102", "-1111", "-1116", "-1117", "-2010", "-2021", "-2022"], _REJECT),
        **dict.fromkeys(["-4003", "-4014", "-4023", "-4061", "-4131", "-4164", "-5021", "-5022"], _REJECT),
        "-1121": _SYMBOL,
        **dict.fromkeys(["-2011", "-2013"], _NOT_FOUND),
        "-1021": _NONCE,
        **dict.fromkeys(["-1002", "-1022", "-2014", "-2015"], _AUTH),
        **dict.fromkeys(["-1003", "-1015"], _LIMITED),
    },
    "okx": {
        **dict.fromkeys(["51008", "51119", "51131"], _FUNDS),
        **dict.fromkeys(["51000", "51004", "51006", "51016", "51020", "51121", "51205"], _REJECT),
        "51001": _SYMBOL,
        **dict.fromkeys(["51400", "51401", "51402", "51603"], _NOT_FOUND),
        **dict.fromkeys(["50102", "50112"], _NONCE),
        **dict.fromkeys(["50103", "50104", "50105", "50111", "50113", "50114"], _AUTH),
        **dict.fromkeys(["50011", "50061"], _LIMITED),
    },
}

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Mapped:
    """The hedgectl error to raise, and what it means for an order POST."""

    error: HedgectlError
    unknown_outcome: bool
    clock_skew: bool


def ccxt_class_rule(exc: BaseException) -> Rule | None:
    """The rule of the most specific ccxt class in `exc`'s MRO, or None when it is not a ccxt error."""
    for cls in type(exc).__mro__:
        if cls.__module__ == CCXT_ERRORS_MODULE and cls.__name__ in CCXT_CLASS_RULES:
            return CCXT_CLASS_RULES[cls.__name__]
    return None


def venue_code(message: str) -> tuple[str | None, str | None]:
    """(code, text) from the JSON reply body ccxt appends to its message: Binance code/msg, OKX sCode/sMsg."""
    start = message.find("{")
    if start < 0:
        return None, None
    try:
        body, _ = json.JSONDecoder().raw_decode(message[start:])
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    for row in body.get("data") or []:  # OKX: the per-order code is the specific one
        if isinstance(row, dict) and str(row.get("sCode", "0")) not in ("", "0"):
            return str(row["sCode"]), _text(row.get("sMsg"))
    code = body.get("code")
    if code is None or str(code) in ("0", "200"):
        return None, _text(body.get("msg"))
    return str(code), _text(body.get("msg"))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """One short line with URL query strings removed and any credential value masked."""
    cleaned = _SPACE.sub(" ", scrub_secrets(text, secrets)).strip()
    return cleaned if len(cleaned) <= _MAX_TEXT else cleaned[: _MAX_TEXT - 1] + "…"


def _transport_rule(exc: BaseException) -> Rule | None:
    """Errors from below ccxt (or a ccxt ExchangeError that merely wraps one): the reply was lost."""
    causes = [exc, exc.__cause__]
    if any(isinstance(c, aiohttp.ClientError | asyncio.TimeoutError | OSError) for c in causes):
        return _UNKNOWN
    return None


def _below_ccxt(exc: BaseException) -> bool:
    """True when the chain holds a transport failure from under ccxt (aiohttp, a socket, a timeout)."""
    return any(
        isinstance(e, aiohttp.ClientError | asyncio.TimeoutError | OSError) for e in list(causes(exc))[1:]
    ) or isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError)


def map_ccxt_error(
    exc: BaseException,
    venue: str,
    *,
    secrets: tuple[str, ...] = (),
    context: str = "",
    http_status: int | None = None,
) -> Mapped:
    """Translate one foreign exception; the caller raises `.error from exc`. HedgectlErrors pass through."""
    if isinstance(exc, HedgectlError):
        return Mapped(exc, unknown_outcome=False, clock_skew=False)
    raw = str(exc)
    code, text = venue_code(raw)
    rule = VENUE_CODE_RULES.get(venue, {}).get(code or "")
    class_rule = ccxt_class_rule(exc)
    if rule is None and (class_rule is None or class_rule is _OTHER):
        rule = _transport_rule(exc)
    rule = rule or class_rule or _OTHER
    text = scrub(text if text is not None else _strip_exchange_id(raw), secrets) or type(exc).__name__
    if rule.error is Unavailable and _below_ccxt(exc):
        text = f"{text}: {describe_transport(exc)}"
    elif http_status is not None and http_status >= 400:
        text = f"HTTP {http_status}: {text}"
    prefix = f"{context}: " if context else ""
    if issubclass(rule.error, VenueError):
        error: HedgectlError = rule.error(venue, prefix + text, code=code)
    else:
        error = rule.error(f"{venue}: {prefix}{text}")
    return Mapped(error, unknown_outcome=rule.unknown_outcome, clock_skew=rule.clock_skew)


def venue_error(venue: str, code: str, message: str) -> HedgectlError:
    """The error for a venue code a reply carried without ccxt raising (OKX per-order sCode); default: rejected."""
    rule = VENUE_CODE_RULES.get(venue, {}).get(code, _REJECT)
    if issubclass(rule.error, VenueError):
        return rule.error(venue, scrub(message), code=code)
    return rule.error(f"{venue}: {scrub(message)}")


def _strip_exchange_id(message: str) -> str:
    """ccxt prefixes messages with its exchange id ("binanceusdm ..."); ours carry the venue already."""
    head, _, rest = message.partition(" ")
    return rest if head.isalnum() and head.islower() and rest else message
