"""The one set of wire readers every venue parser uses: strict about meaning, tolerant about representation.

Real venues send the same figure as a JSON number or as a string (Aster: `"orderId": "123"` in one reply,
`123` in the next), and use `""` or `null` for "none". A reader accepts every representation of a value
and refuses anything that is not one: a missing or garbled money figure raises BadResponse naming the
venue and the field, and is never taken for 0. JSON reaches us with floats decoded as Decimal
(`decode_json`), so no figure ever passes through a binary float; a float that slips through is refused.

`WireReader(venue)` binds the venue once: `r.dec(row, "price", "order")`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from hedgectl.errors import BadResponse

Wire = Mapping[str, Any]
T = TypeVar("T")
MAX_EPOCH_MS = 10**14  # the year 5138: any later time is a garbled field (and overflows fromtimestamp)
MAX_DIGITS = 30  # nothing a venue sends is beyond 1e±30; such a "number" is garbage and overflows the arithmetic


def to_number(value: Any) -> Decimal | None:
    """A JSON number (int or Decimal) or a numeric string as a finite Decimal; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value or not value.isascii():
            return None
    elif not isinstance(value, Decimal | int):
        return None  # floats are already rounded; dicts, lists are not numbers
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite() or (number and not -MAX_DIGITS <= number.adjusted() < MAX_DIGITS):
        return None
    return number


def to_int(value: Any) -> int | None:
    """An integral JSON number or an integer string ("-2011", "1700000000000"); None for anything else."""
    number = to_number(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def is_none(value: Any) -> bool:
    """True for what venues send to mean "no value": an absent field, null, or the empty string."""
    return value is None or value == ""


def error_code(payload: Any) -> int | None:
    """The numeric `code` of an error object, sent as a number or a string (`{"code": "-2011"}`)."""
    if not isinstance(payload, Mapping):
        return None
    return to_int(payload.get("code"))


def decode_json(body: str | bytes, venue: str) -> Any:
    """A reply body as JSON with floats as Decimal; an empty, truncated, HTML or text body raises BadResponse."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not text.strip():
        raise BadResponse(venue, "empty reply")
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        raise BadResponse(venue, f"reply is not JSON: {' '.join(text.split())[:120]!r}") from None


def plain(value: Decimal) -> str:
    """A decimal as venues want it on the wire: no exponent, no trailing zeros."""
    text_value = format(value.normalize(), "f")
    return text_value if "." not in text_value else text_value.rstrip("0").rstrip(".") or "0"


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class WireReader:
    """The readers, bound to one venue (the name every BadResponse carries)."""

    __slots__ = ("venue",)

    def __init__(self, venue: str) -> None:
        self.venue = venue

    def bad(self, message: str) -> BadResponse:
        return BadResponse(self.venue, f"unexpected reply: {message}")

    @staticmethod
    def _where(what: str, key: str) -> str:
        return f"{what}.{key}" if what else key

    # --- containers ---------------------------------------------------------------------------------

    def obj(self, wire: Any, what: str) -> Wire:
        """A reply that must be a JSON object."""
        if not isinstance(wire, Mapping):
            raise self.bad(f"{what} is not an object ({type(wire).__name__})")
        return wire

    def seq(self, wire: Any, what: str) -> list[Any]:
        """A reply that must be a JSON list."""
        if not isinstance(wire, list):
            raise self.bad(f"{what} is not a list ({type(wire).__name__})")
        return wire

    def rows(self, wire: Any, what: str) -> list[Wire]:
        """A reply that must be a list of objects."""
        return [self.obj(item, f"{what}[]") for item in self.seq(wire, what)]

    def field(self, row: Wire, key: str, what: str) -> Any:
        """A field that must be present and not null."""
        value = row.get(key)
        if value is None:
            raise self.bad(f"{self._where(what, key)} is missing")
        return value

    # --- numbers --------------------------------------------------------------------------------------

    def number(self, value: Any, where: str) -> Decimal:
        number = to_number(value)
        if number is None:
            shown = "missing" if is_none(value) else f"not a number: {str(value)[:40]!r}"
            raise self.bad(f"{where} is {shown}")
        return number

    def dec(self, row: Wire, key: str, what: str = "") -> Decimal:
        """A required decimal: a JSON number or a numeric string; absent, null or "" is an error, never 0."""
        return self.number(row.get(key), self._where(what, key))

    def opt_dec(self, row: Wire, key: str, what: str = "") -> Decimal | None:
        """An optional decimal: None when absent, null or ""; BadResponse when present but not a number."""
        value = row.get(key)
        return None if is_none(value) else self.number(value, self._where(what, key))

    def nonneg(self, row: Wire, key: str, what: str = "") -> Decimal:
        number = self.dec(row, key, what)
        if number < 0:
            raise self.bad(f"{self._where(what, key)} is negative")
        return number

    def positive(self, row: Wire, key: str, what: str = "") -> Decimal:
        number = self.dec(row, key, what)
        if number <= 0:
            raise self.bad(f"{self._where(what, key)} is not positive")
        return number

    def integer(self, value: Any, where: str) -> int:
        number = to_int(value)
        if number is None:
            raise self.bad(f"{where} is not an integer: {str(value)[:40]!r}")
        return number

    def int_field(self, row: Wire, key: str, what: str = "") -> int:
        return self.integer(self.field(row, key, what), self._where(what, key))

    def opt_int(self, row: Wire, key: str, what: str = "") -> int | None:
        value = row.get(key)
        return None if is_none(value) else self.integer(value, self._where(what, key))

    # --- times --------------------------------------------------------------------------------------

    def epoch(self, value: Any, where: str, per_second: int = 1000) -> datetime:
        """An epoch time (ms by default; `per_second=10**6` for microseconds) as a UTC datetime."""
        number = to_int(value)
        if number is None or not 0 <= number < MAX_EPOCH_MS * (per_second // 1000 or 1):
            raise self.bad(f"{where} is not an epoch time: {str(value)[:40]!r}")
        return datetime.fromtimestamp(number / per_second, tz=UTC)

    def ms(self, row: Wire, key: str, what: str = "") -> datetime:
        """A required epoch-milliseconds time, a JSON number or a string."""
        return self.epoch(self.field(row, key, what), self._where(what, key))

    def opt_ms(self, row: Wire, key: str, what: str = "") -> datetime | None:
        """An optional epoch-milliseconds time: None when absent, null, "" or 0 (Binance's "never")."""
        value = row.get(key)
        if is_none(value) or to_int(value) == 0:
            return None
        return self.epoch(value, self._where(what, key))

    def iso_or_ms(self, row: Wire, key: str, what: str = "") -> datetime:
        """Epoch ms, or an ISO-8601 string (without a zone it means UTC)."""
        value = self.field(row, key, what)
        if isinstance(value, str) and to_int(value) is None:
            try:
                at = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.bad(f"{self._where(what, key)} is not a timestamp: {value[:40]!r}") from None
            return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        return self.epoch(value, self._where(what, key))

    def opt_iso_or_ms(self, row: Wire, key: str, what: str = "") -> datetime | None:
        return None if is_none(row.get(key)) else self.iso_or_ms(row, key, what)

    # --- text, ids, flags, enums --------------------------------------------------------------------

    def text(self, row: Wire, key: str, what: str = "") -> str:
        """A required non-empty string."""
        value = row.get(key)
        if not isinstance(value, str) or not value:
            raise self.bad(f"{self._where(what, key)} is not a non-empty string")
        return value

    @staticmethod
    def opt_text(row: Wire, key: str) -> str | None:
        """An optional string (an integer is stringified); "" or anything garbled counts as absent."""
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            return None
        return str(value)

    def ident(self, row: Wire, key: str, what: str = "") -> str:
        """A required id, sent as a JSON integer or a string ("123" and 123 are the same id)."""
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise self.bad(f"{self._where(what, key)} is not an id: {str(value)[:40]!r}")
        return str(value)

    def opt_ident(self, row: Wire, key: str, what: str = "") -> str | None:
        """An optional id: None when absent, null or "" (Backpack's system fills have `tradeId: null`)."""
        return None if is_none(row.get(key)) else self.ident(row, key, what)

    def flag(self, row: Wire, key: str, what: str = "", default: bool = False) -> bool:
        """A boolean sent as true/false or "true"/"false"; absent or null gives `default`."""
        value = row.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.bad(f"{self._where(what, key)} is not a boolean: {str(value)[:40]!r}")

    def enum(self, row: Wire, key: str, table: Mapping[str, T], what: str = "") -> T:
        """A value from a closed vocabulary; an unknown one is an error, never a default."""
        value = row.get(key)
        if not isinstance(value, str) or value not in table:
            raise self.bad(f"{self._where(what, key)} {str(value)[:40]!r} is unknown")
        return table[value]
