"""OKX's error codes -> hedgectl's error tree, in one table (reference §3.5; OKX v5 docs "Error Code").

OKX answers with HTTP 200 and `{"code": "<non-zero>", "msg": ...}` for most refusals; a refused order
carries its own `sCode`/`sMsg` inside `data[]` under top-level code "1" (or "0" in a batch), which is the
specific one. HTTP 429 comes with 50011 and 401 with the auth codes.

What a code means for an order POST decides what happens next: a refusal proves the order was not taken
(no reconciliation, no resend); an "outcome unknown" code means it may exist (look it up by client order
id, never resend); a clock refusal (50102, 50112) proves it was not taken, so the client re-measures the
server-time offset and signs it once more.
"""

from __future__ import annotations

from enum import Enum

from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    VenueError,
)

VENUE = "okx"


class Meaning(Enum):
    """What one OKX code says happened."""

    AUTH = "auth"
    FUNDS = "funds"
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    SYMBOL = "symbol"
    RATE_LIMITED = "rate_limited"
    CLOCK = "clock"  # our timestamp was refused: re-measure the offset, sign again
    BUSY = "busy"  # refused before acting (maintenance, busy): a read may be retried
    UNKNOWN_OUTCOME = "unknown_outcome"  # the venue does not say whether it acted


CODES: dict[str, Meaning] = {
    # 50xxx: general
    "50000": Meaning.REJECTED,  # body can not be empty
    "50002": Meaning.REJECTED,  # JSON format error
    "50014": Meaning.REJECTED,  # a required parameter is empty
    "50001": Meaning.BUSY,  # service temporarily unavailable
    "50004": Meaning.UNKNOWN_OUTCOME,  # endpoint request timeout (does not mean the request failed)
    "50011": Meaning.RATE_LIMITED,  # too many requests
    "50013": Meaning.BUSY,  # system busy
    "50026": Meaning.UNKNOWN_OUTCOME,  # system error
    "50061": Meaning.RATE_LIMITED,  # sub-account order rate limit
    "50100": Meaning.AUTH,  # API frozen
    "50101": Meaning.AUTH,  # APIKey does not match the environment (a demo key on live, or the reverse)
    "50102": Meaning.CLOCK,  # timestamp request expired
    "50103": Meaning.AUTH,  # OK-ACCESS-KEY empty
    "50104": Meaning.AUTH,  # OK-ACCESS-PASSPHRASE empty
    "50105": Meaning.AUTH,  # OK-ACCESS-PASSPHRASE incorrect
    "50106": Meaning.AUTH,  # OK-ACCESS-SIGN empty
    "50107": Meaning.AUTH,  # OK-ACCESS-TIMESTAMP empty
    "50110": Meaning.AUTH,  # IP not in the key's whitelist
    "50111": Meaning.AUTH,  # invalid OK-ACCESS-KEY
    "50112": Meaning.CLOCK,  # invalid OK-ACCESS-TIMESTAMP
    "50113": Meaning.AUTH,  # invalid signature
    "50114": Meaning.AUTH,  # invalid authorization
    "50119": Meaning.AUTH,  # API key doesn't exist (an EEA key on www: OKX_HOST=eea)
    "50120": Meaning.AUTH,  # API key lacks the permission
    # 51xxx: trade
    "51000": Meaning.REJECTED,  # parameter error (posSide in the wrong position mode)
    "51001": Meaning.SYMBOL,  # instrument does not exist
    "51003": Meaning.REJECTED,  # neither ordId nor clOrdId
    "51004": Meaning.REJECTED,  # above the position tier's limit
    "51006": Meaning.REJECTED,  # price out of limit
    "51008": Meaning.FUNDS,  # insufficient balance / margin
    "51010": Meaning.REJECTED,  # not supported in the current account mode
    "51016": Meaning.REJECTED,  # duplicate clOrdId
    "51020": Meaning.REJECTED,  # below the minimum size
    "51111": Meaning.REJECTED,  # too many orders in one batch
    "51119": Meaning.FUNDS,  # insufficient margin
    "51121": Meaning.REJECTED,  # not a multiple of the lot size
    "51131": Meaning.FUNDS,  # insufficient balance
    "51169": Meaning.REJECTED,  # no position in this direction to reduce
    "51201": Meaning.REJECTED,  # market order value above the cap
    "51202": Meaning.REJECTED,  # market order size above maxMktSz
    "51203": Meaning.REJECTED,  # order size above the limit
    "51205": Meaning.REJECTED,  # reduce-only not available
    "51400": Meaning.NOT_FOUND,  # cancel failed: the order does not exist
    "51401": Meaning.NOT_FOUND,  # cancel failed: already cancelled
    "51402": Meaning.NOT_FOUND,  # cancel failed: already completed
    "51603": Meaning.NOT_FOUND,  # order does not exist
}

# "The position side does not fit the account's mode" (51000 posSide): the session's cached mode is stale.
POSITION_SIDE_REFUSAL = "51000"
# WebSocket login refusals a later attempt can overcome (timestamp, rate); the rest are bad credentials.
WS_RETRYABLE_LOGIN = frozenset({"60006", "60014", "60023"})


def meaning(code: str | None, http_status: int = 200) -> Meaning | None:
    """What a code (or, without a known code, the HTTP status) says; None: nothing specific."""
    if code in CODES:
        return CODES[code]
    if http_status == 429:
        return Meaning.RATE_LIMITED
    if http_status in (401, 403):
        return Meaning.AUTH
    if http_status >= 500:
        return Meaning.UNKNOWN_OUTCOME
    return None


def okx_error(code: str | None, message: str, *, http_status: int = 200, write: bool = False) -> VenueError:
    """The hedgectl error for one refusal; `write`: the request may change state (an order, a cancel)."""
    found = meaning(code, http_status)
    text = message or "refused"
    if http_status >= 400:
        text = f"HTTP {http_status}: {text}"
    if found in (Meaning.UNKNOWN_OUTCOME, Meaning.BUSY):
        # A busy venue most likely did not act, but a write is looked up by client id all the same: cheap, certain.
        if write:
            return AmbiguousOrderState(VENUE, f"outcome unknown ({text})", code=code)
        return Unavailable(VENUE, text, code=code)
    error_class: type[VenueError] = {
        Meaning.AUTH: AuthError,
        Meaning.FUNDS: InsufficientFunds,
        Meaning.REJECTED: OrderRejected,
        Meaning.NOT_FOUND: OrderNotFound,
        Meaning.SYMBOL: SymbolNotListed,
        Meaning.RATE_LIMITED: RateLimited,
        Meaning.CLOCK: Unavailable,
        Meaning.BUSY: Unavailable,
        None: OrderRejected if write else VenueError,
    }[found]
    return error_class(VENUE, text, code=code)
