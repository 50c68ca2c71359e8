"""Funding payments from Binance-style `GET /fapi/vN/income?incomeType=FUNDING_FEE` (Binance USDⓈ-M and Aster).

`parse_funding_income` is pure (wire rows in, domain payments out); `read_income` pages the endpoint forward
in time. Paging is by `startTime`: the venue returns the first `limit` rows from it, ascending. The next page
starts at the last row's own time, not one ms after it, because several payments can share a millisecond
(two symbols, or both sides in hedge mode) and a page may end between them; rows are kept once per `tranId`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hedgectl.clock import utc_from_ms
from hedgectl.domain.types import FundingPayment
from hedgectl.errors import BadResponse
from hedgectl.venues.kit.wire import WireReader, to_int

FUNDING_FEE = "FUNDING_FEE"
INCOME_PAGE = 1000  # the endpoint's largest page
INCOME_MAX_PAGES = 50  # every read is bounded


def parse_funding_income(venue: str, wire: Any, symbol_of: Callable[[str], str | None]) -> list[FundingPayment]:
    """Income rows -> the FUNDING_FEE ones as payments (income is signed: + received, - paid).

    `symbol_of` maps the venue symbol to the canonical one; a symbol it does not know (None) is skipped."""
    r = WireReader(venue)
    payments = []
    for row in r.rows(wire, "income"):
        what = "income row"
        if r.text(row, "incomeType", what) != FUNDING_FEE:
            continue
        symbol = symbol_of(r.text(row, "symbol", what))
        if symbol is None:
            continue
        payments.append(
            FundingPayment(
                venue=venue,
                symbol=symbol,
                payment_id=r.ident(row, "tranId", what),
                at=r.ms(row, "time", what),
                asset=r.text(row, "asset", what),
                amount=r.dec(row, "income", what),
            )
        )
    return payments


async def read_income(
    venue: str,
    fetch: Callable[[int], Awaitable[Any]],
    symbol_of: Callable[[str], str | None],
    since_ms: int,
    until_ms: int | None,
) -> list[FundingPayment]:
    """Every funding payment in [since_ms, until_ms), oldest first; `fetch(start_ms)` reads one page."""
    kept: dict[str, FundingPayment] = {}
    start = since_ms
    for _ in range(INCOME_MAX_PAGES):
        wire = await fetch(start)
        page = parse_funding_income(venue, wire, symbol_of)
        rows = len(wire) if isinstance(wire, list) else 0
        for payment in page:
            kept.setdefault(payment.payment_id, payment)
        last_ms = _last_ms(wire)
        if rows < INCOME_PAGE or last_ms is None or (until_ms is not None and last_ms >= until_ms):
            break
        # A full page all in one millisecond would return itself again: step past it.
        start = last_ms if last_ms > start else start + 1
    else:
        raise BadResponse(venue, f"income: more than {INCOME_MAX_PAGES} pages of payments")
    payments = [
        p for p in kept.values() if p.at >= utc_from_ms(since_ms) and (until_ms is None or p.at < utc_from_ms(until_ms))
    ]
    return sorted(payments, key=lambda p: (p.at, p.payment_id))


def _last_ms(wire: Any) -> int | None:
    if not isinstance(wire, list) or not wire or not isinstance(wire[-1], Mapping):
        return None
    return to_int(wire[-1].get("time"))
