"""The symbols users type, reduced to the canonical base asset every adapter maps to its own perp."""

from __future__ import annotations

import re

from hedgectl.errors import UsageError

_QUOTES = ("USDT", "USDC", "USD")
_PATTERN = re.compile(r"^[A-Z0-9]{1,15}$")


def canonical_symbol(text: str) -> str:
    """Turn `BTC`, `btc`, `BTC/USDT`, `BTC/USDT:USDT`, `BTCUSDT`, `BTC-USDT-SWAP` or `BTC_USDC_PERP` into `BTC`."""
    raw = text.strip().upper()
    if not raw:
        raise UsageError("symbol is empty")
    base = re.split(r"[/:\-_]", raw, maxsplit=1)[0]
    if base == raw:
        for quote in _QUOTES:
            if raw.endswith(quote) and len(raw) > len(quote):
                base = raw[: -len(quote)]
                break
    if not _PATTERN.match(base):
        raise UsageError(f"not a symbol: {text!r} (try BTC or BTC/USDT)")
    return base
