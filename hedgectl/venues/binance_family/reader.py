"""The Binance family's small readers, bound to one venue: what every parser of the family reads the same way.

`FamilyReader(venue)` holds the kit's WireReader (`self.r`, every BadResponse names the venue) and reads the
family's recurring fields strictly: symbols and asset codes (upper-case letters and digits), numeric ids (JSON
integers or strings: 123 and "123" are the same order) and sides. The parsers (parse_account.py, parse.py)
derive from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from hedgectl.domain.types import Side
from hedgectl.venues.kit.wire import WireReader

QUOTE_ASSET = "USDT"
FUNDING_FEE = "FUNDING_FEE"

Wire = Mapping[str, Any]
SymbolOf = Callable[[str], str]

SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
_NAME = re.compile(r"^[A-Z0-9]{1,40}$")  # symbols and asset codes


class FamilyReader:
    """The venue-bound reader and the family's small field readers."""

    __slots__ = ("r", "venue")

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.r = WireReader(venue)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.venue!r})"

    # --- small readers --------------------------------------------------------------------------

    def name(self, wire: Wire, key: str, what: str) -> str:
        value = self.r.text(wire, key, what)
        if not _NAME.match(value):
            raise self.r.bad(f"{what}.{key} is not a symbol or asset code")
        return value

    def numeric_id(self, wire: Wire, key: str, what: str) -> str:
        # Ids come as JSON integers or as strings: 123 and "123" are the same order.
        value = self.r.ident(wire, key, what)
        if not value.isascii() or not value.isdigit():
            raise self.r.bad(f"{what}.{key} is not a numeric id")
        return value

    def side(self, wire: Wire, what: str, key: str = "side") -> Side:
        return self.r.enum(wire, key, SIDES, what)
