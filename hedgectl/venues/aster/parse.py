"""Aster wire -> domain: the Binance family's parsers (binance_family/parse.py), bound to `aster`.

Aster's API is a Binance fork: the same replies, read the same way (and the same strictness: a missing or
garbled figure is BadResponse, never a default; numbers and ids as JSON numbers or strings).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hedgectl.domain.types import Quote
from hedgectl.venues.binance_family.parse import DEFAULT_FUNDING_INTERVAL as DEFAULT_FUNDING_INTERVAL
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.binance_family.parse import to_wire_decimal as to_wire_decimal
from hedgectl.venues.binance_family.reader import QUOTE_ASSET as QUOTE_ASSET

VENUE = "aster"
PARSER = FamilyParser(VENUE)

parse_server_time = PARSER.server_time
parse_server_time_ms = PARSER.server_time_ms
parse_market = PARSER.market
parse_markets = PARSER.markets
parse_book = PARSER.book
parse_funding_intervals = PARSER.funding_intervals
parse_order = PARSER.order
parse_orders = PARSER.orders
parse_fill = PARSER.fill
parse_fills = PARSER.fills
parse_positions = PARSER.positions
parse_balances = PARSER.balances
parse_ack = PARSER.ack
parse_position_mode = PARSER.position_mode
parse_account_config = PARSER.account_config
parse_funding_payments = PARSER.funding_payments
to_wire_order = PARSER.to_wire_order


def parse_quote(
    symbol: str, book_ticker: Any, premium_index: Any, ticker_24hr: Any, funding_interval: timedelta | None
) -> Quote:
    """`ticker/bookTicker` + `premiumIndex` + `ticker/24hr` -> Quote (bid/ask, last, mark, funding)."""
    return PARSER.quote(symbol, book_ticker, premium_index, funding_interval, ticker_24hr)
