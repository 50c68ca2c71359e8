"""Public market data of venues we do not trade, through ccxt's unified API: what `hedgectl scan` reads.

ccxt's breadth is worth it here and only here: perpetual markets, funding rates and order books of any exchange
it knows, with no keys. No trading command imports this module (a test keeps it so), and ccxt itself is imported
when a reader is first built, not when this module is.

ccxt hands back floats; they become Decimals (through their shortest repr) right here, and every foreign
exception is translated here, once, into hedgectl.errors.

In paper mode the four venues the simulator speaks are read through ccxt too (`ccxt:okx`, ...): their clients
are pointed at the simulator exactly as the simulator's ccxt conformance tests point them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from hedgectl.domain.types import BookLevel, OrderBook, Quote
from hedgectl.errors import BadResponse, ConfigError, HedgectlError, RateLimited, SymbolNotListed, Unavailable
from hedgectl.venues.kit.transport import describe_transport, scrub

SETTLE_ASSETS = ("USDT", "USDC")
# The simulator's venues as ccxt names them, and how each client's REST bases are pointed at the simulator.
SIMULATED: dict[str, tuple[str, dict[str, str]]] = {
    "binanceusdm": (
        "binance",
        {"fapiPublic": "/fapi/v1", "fapiPublicV2": "/fapi/v2", "fapiPublicV3": "/fapi/v3"},
    ),
    "okx": ("okx", {"rest": ""}),
    "backpack": ("backpack", {"public": ""}),
    "aster": ("aster", {"fapiPublic": "/fapi", "sapiPublic": "/api"}),
}
_OPTIONS: dict[str, dict[str, Any]] = {
    "binanceusdm": {"fetchCurrencies": False, "fetchMargins": False},
    "aster": {"defaultType": "swap", "builderFee": False},
}
_INTERVAL = re.compile(r"^(\d+)([mh])$")
# Venues whose funding-rate reply carries no interval but whose `fundingInfo` does: Binance USDⓈ-M lists only
# the symbols whose interval differs from its documented 8 h (so an unlisted one is 8 h by the venue's own rule),
# Aster lists every symbol. Our adapters read them the same way.
_FUNDING_INFO_DEFAULT: dict[str, timedelta] = {"binanceusdm": timedelta(hours=8), "aster": timedelta(hours=8)}


def exchange_ids() -> list[str]:
    """Every exchange id ccxt knows."""
    import ccxt.async_support as ccxt_async

    return list(ccxt_async.exchanges)


@dataclass(frozen=True, slots=True)
class PublicMarket:
    """One linear perpetual: base, settlement asset, ccxt's symbol, its contract size and published taker fee."""

    base: str
    settle: str
    symbol: str
    contract_size: Decimal
    taker_fee_rate: Decimal | None


class CcxtPublic:
    """Read-only public market data of one exchange through ccxt (no keys)."""

    def __init__(self, exchange_id: str, *, name: str | None = None, sim_url: str | None = None) -> None:
        import ccxt.async_support as ccxt_async

        if exchange_id not in ccxt_async.exchanges:
            raise ConfigError(f"unknown venue {exchange_id!r}: neither one of ours nor an exchange ccxt knows")
        self.exchange_id = exchange_id
        self.name = name or exchange_id
        options = {"defaultType": "swap", **_OPTIONS.get(exchange_id, {})}
        self._ex = getattr(ccxt_async, exchange_id)({"enableRateLimit": True, "options": options})
        if sim_url is not None:
            if exchange_id not in SIMULATED:
                raise ConfigError(
                    f"{self.name}: paper mode reads only the simulated venues "
                    f"(ccxt:{', ccxt:'.join(SIMULATED)}); read other exchanges in live mode"
                )
            prefix, keys = SIMULATED[exchange_id]
            self._ex.urls["api"] = {key: f"{sim_url}/{prefix}{path}" for key, path in keys.items()}
        self._markets: dict[tuple[str, str], PublicMarket] | None = None
        self._intervals: dict[str, timedelta] | None = None  # fundingInfo, read once

    async def markets(self) -> dict[tuple[str, str], PublicMarket]:
        """Active linear perpetuals settled in USDT or USDC, keyed by (base, settle asset)."""
        if self._markets is None:
            raw = await self._call(self._ex.load_markets())
            found: dict[tuple[str, str], PublicMarket] = {}
            for m in raw.values():
                if not (m.get("swap") and m.get("linear")) or m.get("active") is False:
                    continue
                settle, base = str(m.get("settle") or ""), str(m.get("base") or "")
                if settle not in SETTLE_ASSETS or not base or (base, settle) in found:
                    continue
                found[(base, settle)] = PublicMarket(
                    base=base,
                    settle=settle,
                    symbol=str(m["symbol"]),
                    contract_size=_dec(m.get("contractSize"), "contractSize") or Decimal(1),
                    taker_fee_rate=_dec(m.get("taker"), "taker"),
                )
            self._markets = found
        return self._markets

    async def quote(self, market: PublicMarket) -> Quote:
        """Funding rate, its interval and time, and the mark (ccxt's fetch_funding_rate)."""
        raw = await self._call(self._ex.fetch_funding_rate(market.symbol))
        next_ms = raw.get("fundingTimestamp") or raw.get("nextFundingTimestamp")
        mark = _dec(raw.get("markPrice"), "markPrice")
        return Quote(
            venue=self.name,
            symbol=market.base,
            bid=mark or Decimal(0),
            ask=mark or Decimal(0),
            mark=mark,
            funding_rate=_dec(raw.get("fundingRate"), "fundingRate"),
            next_funding_at=None if not next_ms else datetime.fromtimestamp(int(next_ms) / 1000, tz=UTC),
            funding_interval=_interval(raw) or await self._listed_interval(market.symbol),
        )

    async def _listed_interval(self, symbol: str) -> timedelta | None:
        """The symbol's interval from the venue's fundingInfo (ccxt's fetch_funding_intervals), where it has one."""
        default = _FUNDING_INFO_DEFAULT.get(self.exchange_id)
        if default is None:
            return None
        if self._intervals is None:
            rows = await self._call(self._ex.fetch_funding_intervals())
            self._intervals = {
                str(sym): interval
                for sym, row in rows.items()
                if isinstance(row, dict) and (interval := _interval({"interval": row.get("interval")})) is not None
            }
        return self._intervals.get(symbol, default)

    async def book(self, market: PublicMarket, depth: int) -> OrderBook:
        """Order book levels in base units (ccxt gives contracts where the venue trades contracts)."""
        raw = await self._call(self._ex.fetch_order_book(market.symbol, depth))

        def levels(side: str) -> tuple[BookLevel, ...]:
            rows = raw.get(side)
            if not isinstance(rows, list):
                raise BadResponse(self.name, f"order book has no {side}")
            out = []
            for row in rows[:depth]:
                price, amount = _dec(row[0], "price"), _dec(row[1], "amount")
                if price is None or amount is None:
                    raise BadResponse(self.name, f"order book level without price or amount: {row!r}")
                out.append(BookLevel(price=price, qty=amount * market.contract_size))
            return tuple(out)

        return OrderBook(venue=self.name, symbol=market.base, bids=levels("bids"), asks=levels("asks"))

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # closing must not mask the scan's result
            await self._ex.close()

    async def _call(self, awaitable: Any) -> Any:
        """Await one ccxt call, translating its exceptions (most specific first)."""
        import ccxt.async_support as ccxt_async

        try:
            return await awaitable
        except ccxt_async.BadSymbol as exc:
            raise SymbolNotListed(self.name, _first_line(exc)) from exc
        except (ccxt_async.RateLimitExceeded, ccxt_async.DDoSProtection) as exc:
            raise RateLimited(self.name, _first_line(exc)) from exc
        except ccxt_async.NetworkError as exc:
            raise Unavailable(self.name, f"{describe_transport(exc)}: {_first_line(exc)}") from exc
        except ccxt_async.BaseError as exc:
            raise BadResponse(self.name, _first_line(exc)) from exc
        except HedgectlError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise BadResponse(self.name, f"reply not understood ({type(exc).__name__})") from exc


def _interval(raw: dict[str, Any]) -> timedelta | None:
    """The funding interval as the venue reported it (ccxt's `interval`, or next - current settlement); None
    when neither says: never assumed."""
    text = raw.get("interval")
    if isinstance(text, str) and (match := _INTERVAL.match(text)):
        n, unit = int(match.group(1)), match.group(2)
        return timedelta(hours=n) if unit == "h" else timedelta(minutes=n)
    this_ms, next_ms = raw.get("fundingTimestamp"), raw.get("nextFundingTimestamp")
    if this_ms and next_ms and int(next_ms) > int(this_ms):
        return timedelta(milliseconds=int(next_ms) - int(this_ms))
    return None


def _dec(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        out = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise BadResponse("", f"{what} is not a number: {value!r}") from None
    if not out.is_finite():
        raise BadResponse("", f"{what} is not a finite number: {value!r}")
    return out


def _first_line(exc: BaseException) -> str:
    """The exception's first line, without URL query strings (public data carries no keys; still, never a query)."""
    text = str(exc).strip().splitlines()
    return scrub(text[0] if text else type(exc).__name__)[:200]
