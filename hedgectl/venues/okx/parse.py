"""OKX v5 wire -> domain for USDT-margined swaps (reference §3, §8); every field read by the kit's WireReader.

OKX sizes are contracts: base = contracts × ctVal. Conversion happens only here: a Market's step and min are
in base units (lotSz × ctVal, minSz × ctVal) and `contract_size` is ctVal. A quantity that is not a whole
number of lots is refused before anything is sent. Fees arrive negative when paid and are negated; funding
bills keep OKX's sign (+ received). This module reads envelopes, market data and the account; orders,
fills and funding bills are in parse_orders.py.

Replies are `{"code": "0", "msg": "", "data": [...]}`; error replies never reach this module (client.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    BookLevel,
    Candle,
    Market,
    OrderBook,
    Position,
    PositionMode,
    PositionSide,
    Quote,
)
from hedgectl.errors import BadResponse
from hedgectl.venues.kit.candles import candle
from hedgectl.venues.kit.fees import check_fee_rate
from hedgectl.venues.kit.wire import Wire, WireReader
from hedgectl.venues.order_rules import (
    checked_market,
    checked_position,
)

VENUE = "okx"
QUOTE = "USDT"
_R = WireReader(VENUE)

# posSide of orders, fills and positions: "net" in net_mode; long/short name the side in long_short_mode.
POS_SIDES: dict[str, PositionSide | None] = {"net": None, "long": PositionSide.LONG, "short": PositionSide.SHORT}
_POS_MODES = {"net_mode": PositionMode.ONE_WAY, "long_short_mode": PositionMode.HEDGE}


# ---- envelopes ------------------------------------------------------------------------------------


def data(reply: Any, what: str) -> list[Wire]:
    """The `data` rows of a successful reply."""
    return _R.rows(_R.obj(reply, what).get("data"), f"{what}.data")


def first(reply: Any, what: str) -> Wire:
    """data[0] of a reply that must carry one row."""
    rows = data(reply, what)
    if not rows:
        raise BadResponse(VENUE, f"{what}: empty data")
    return rows[0]


def by_venue_symbol(markets: Mapping[str, Market]) -> dict[str, Market]:
    return {m.venue_symbol: m for m in markets.values()}


# ---- public ---------------------------------------------------------------------------------------


def parse_server_time_ms(reply: Any) -> int:
    """GET /api/v5/public/time: data[0].ts (ms)."""
    return _R.int_field(first(reply, "public/time"), "ts", "public/time")


def parse_markets(reply: Any) -> tuple[dict[str, Market], dict[str, str]]:
    """GET /api/v5/public/instruments?instType=SWAP: live linear swaps settled in USDT, and the unreadable ones."""
    markets: dict[str, Market] = {}
    broken: dict[str, str] = {}
    for row in data(reply, "instruments"):
        base, _, quote = str(row.get("uly") or row.get("instFamily") or "").partition("-")
        if row.get("ctType") != "linear" or row.get("settleCcy") != QUOTE or quote != QUOTE:
            continue
        if row.get("state") != "live":
            continue
        try:
            markets[base] = parse_market(row, base)
        except BadResponse as exc:
            broken[base] = exc.reason
    return markets, broken


def parse_market(row: Wire, base: str) -> Market:
    """One instrument: base-unit rules from lotSz, minSz, maxLmtSz, maxMktSz (× ctVal); contract_size = ctVal."""
    ct_val = _R.positive(row, "ctVal", "instrument")
    lot = _R.positive(row, "lotSz", "instrument")
    tick = _R.positive(row, "tickSz", "instrument")
    if row.get("ctValCcy", base) != base:
        raise BadResponse(VENUE, f"{row.get('instId')}: contract value is in {row.get('ctValCcy')}, not {base}")
    max_lots = _R.opt_dec(row, "maxLmtSz", "instrument")
    max_market_lots = _R.opt_dec(row, "maxMktSz", "instrument")  # market orders: far below maxLmtSz
    market = Market(
        venue=VENUE,
        symbol=base,
        venue_symbol=_R.text(row, "instId", "instrument"),
        base=base,
        quote=QUOTE,
        tick_size=tick,
        step_size=(lot * ct_val).normalize(),
        min_qty=(_R.dec(row, "minSz", "instrument") * ct_val).normalize(),
        contract_size=ct_val,
        max_qty=(max_lots * ct_val).normalize() if max_lots else None,
        max_market_qty=(max_market_lots * ct_val).normalize() if max_market_lots else None,
    )
    return checked_market(market)


def parse_quote(market: Market, ticker: Any, funding: Any, mark: Any) -> Quote:
    """GET market/ticker + public/funding-rate + public/mark-price of one instrument."""
    top = first(ticker, "ticker")
    rate = first(funding, "funding-rate")
    this_ms = _R.opt_int(rate, "fundingTime", "funding-rate")
    next_ms = _R.opt_int(rate, "nextFundingTime", "funding-rate")
    interval = timedelta(milliseconds=next_ms - this_ms) if this_ms and next_ms and next_ms > this_ms else None
    return Quote(
        venue=VENUE,
        symbol=market.symbol,
        bid=_R.dec(top, "bidPx", "ticker"),
        ask=_R.dec(top, "askPx", "ticker"),
        last=_R.opt_dec(top, "last", "ticker"),
        mark=_R.opt_dec(first(mark, "mark-price"), "markPx", "mark-price"),
        funding_rate=_R.opt_dec(rate, "fundingRate", "funding-rate"),
        next_funding_at=_R.opt_ms(rate, "fundingTime", "funding-rate"),  # the settlement the current rate applies to
        funding_interval=interval,
        at=_R.opt_ms(top, "ts", "ticker"),
    )


def parse_book(reply: Any, market: Market, depth: int) -> OrderBook:
    """GET /api/v5/market/books: `[px, sz (contracts), "0", numOrders]` levels, best first."""
    row = first(reply, "books")
    return OrderBook(
        venue=VENUE,
        symbol=market.symbol,
        bids=_levels(row.get("bids"), depth, market, "bids"),
        asks=_levels(row.get("asks"), depth, market, "asks"),
        at=_R.opt_ms(row, "ts", "books"),
    )


def _levels(raw: Any, depth: int, market: Market, what: str) -> tuple[BookLevel, ...]:
    levels = []
    for level in _R.seq(raw, f"books.{what}")[:depth]:
        if not isinstance(level, list) or len(level) < 2:
            raise BadResponse(VENUE, f"books: malformed {what} level")
        price = _R.number(level[0], f"books.{what}.px")
        size = _R.number(level[1], f"books.{what}.sz")
        levels.append(BookLevel(price, size * market.contract_size))
    return tuple(levels)


def parse_candles(reply: Any, market: Market, interval: timedelta) -> list[Candle]:
    """GET /api/v5/market/candles: `[ts, o, h, l, c, vol (contracts), volCcy (base), volCcyQuote, confirm]`
    rows, newest first; returned oldest first, volume in base units (volCcy)."""
    rows = _R.seq(_R.obj(reply, "candles").get("data"), "candles.data")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 5:
            raise BadResponse(VENUE, "candles: malformed row")
        ohlc = dict(zip(("open", "high", "low", "close"), row[1:5], strict=True))
        at = _R.epoch(row[0], "candles.ts")
        out.append(candle(_R, market.symbol, at, interval, ohlc, "candles", row[6] if len(row) > 6 else None))
    return sorted(out, key=lambda c: c.open_at)


# ---- account --------------------------------------------------------------------------------------


def parse_position_mode(reply: Any) -> PositionMode:
    """GET /api/v5/account/config `posMode`: net_mode or long_short_mode."""
    return _R.enum(first(reply, "account/config"), "posMode", _POS_MODES, "account/config")


def parse_account_config(config: Any, leverage_info: Any) -> AccountConfig:
    """GET account/config (posMode) + account/leverage-info (cross: the margin we trade; the highest lever)."""
    mode = parse_position_mode(config)
    levers = [lever for r in data(leverage_info, "leverage-info") if (lever := _R.opt_dec(r, "lever")) is not None]
    return AccountConfig(VENUE, mode, "cross", max(levers) if levers else None)


def parse_taker_fee_rate(reply: Any, inst_family: str) -> Decimal:
    """GET /api/v5/account/trade-fee?instType=SWAP: `takerU` (USDT-margined swaps; `taker` is the coin-margined
    rate). OKX signs fees from the account's side: a charge is negative, a rebate positive, so the rate we use
    (a charge positive) is its negation, as ccxt's okx parse_trading_fee does."""
    what = "account/trade-fee"
    row = first(reply, what)
    family = WireReader.opt_text(row, "instFamily") or WireReader.opt_text(row, "uly")
    if family not in (None, inst_family):
        raise BadResponse(VENUE, f"{what}: asked for {inst_family}, got {family!r}")
    return check_fee_rate(VENUE, -_R.dec(row, "takerU", what), what)


def parse_balances(reply: Any) -> list[Balance]:
    """GET /api/v5/account/balance: data[0].details (eq total; availEq free, else availBal)."""
    balances = []
    for row in _R.rows(first(reply, "balance").get("details"), "balance.details"):
        total = _R.dec(row, "eq", "balance")
        free = _R.opt_dec(row, "availEq", "balance")
        free = _R.dec(row, "availBal", "balance") if free is None else free
        if total or free:
            balances.append(Balance(_R.text(row, "ccy", "balance"), total, free, total - free))
    return balances


def parse_positions(reply: Any, markets: Mapping[str, Market]) -> list[Position]:
    """GET /api/v5/account/positions: our instruments' non-zero positions."""
    known = by_venue_symbol(markets)
    positions = []
    for row in data(reply, "positions"):
        market = known.get(_R.text(row, "instId", "positions"))
        if market is not None:
            position = parse_position(row, market)
            if position.qty:
                positions.append(position)
    return positions


MARGIN_MODES = {"cross": "cross", "isolated": "isolated"}  # a position's mgnMode (an unknown one is a broken reply)


def parse_position(row: Wire, market: Market) -> Position:
    """One positions row: net mode `pos` is signed contracts; long/short mode takes the sign from posSide."""
    contracts = _R.dec(row, "pos", "position")
    side = _R.enum(row, "posSide", POS_SIDES, "position") if row.get("posSide") not in (None, "") else None
    if side is PositionSide.SHORT:
        contracts = -abs(contracts)
    elif side is PositionSide.LONG:
        contracts = abs(contracts)
    position = Position(
        venue=VENUE,
        symbol=market.symbol,
        qty=contracts * market.contract_size,
        position_side=side,
        entry_price=_R.opt_dec(row, "avgPx", "position") or None,
        mark_price=_R.opt_dec(row, "markPx", "position"),
        unrealized_pnl=_R.opt_dec(row, "upl", "position"),
        liquidation_price=_R.opt_dec(row, "liqPx", "position") or None,
        leverage=_R.opt_dec(row, "lever", "position"),
        margin_mode=_R.enum(row, "mgnMode", MARGIN_MODES, "position") if row.get("mgnMode") not in (None, "") else None,
    )
    return checked_position(position)
