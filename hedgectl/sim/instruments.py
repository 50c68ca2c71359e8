"""The simulator's listed perpetuals: each venue's real symbol naming and realistic trading rules.

Quantities in an `Instrument` are in **base units** (BTC, ETH, ...). A dialect whose venue trades in
contracts (OKX) converts at its edge with `contract_value`; its wire rules (`lotSz`, `minSz`) are the
base-unit rules divided by `contract_value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

VENUES: tuple[str, ...] = ("binance", "okx", "backpack", "aster")
BASES: tuple[str, ...] = ("BTC", "ETH", "SOL", "ASTER")

HOUR_MS = 3_600_000

QUOTE_ASSET: dict[str, str] = {"binance": "USDT", "okx": "USDT", "backpack": "USDC", "aster": "USDT"}
START_BALANCE: dict[str, Decimal] = {venue: Decimal("10000") for venue in VENUES}

# Default (lowest tier) maker/taker fee rates, as the venues publish them; HEDGECTL_SIM_FEES overrides them.
FEES: dict[str, tuple[Decimal, Decimal]] = {
    "binance": (Decimal("0.0002"), Decimal("0.0005")),
    "okx": (Decimal("0.0002"), Decimal("0.0005")),
    "backpack": (Decimal("0.0002"), Decimal("0.0005")),
    "aster": (Decimal("0.0001"), Decimal("0.00035")),
}
DEFAULT_LEVERAGE: dict[str, int] = {"binance": 20, "okx": 10, "backpack": 10, "aster": 20}


@dataclass(frozen=True, slots=True)
class Instrument:
    """One perpetual on one venue; sizes in base units, prices in the quote asset."""

    venue: str
    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    contract_value: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    funding_interval_ms: int
    max_leverage: int

    @property
    def max_price(self) -> Decimal:
        """The PRICE_FILTER ceiling (ten million ticks)."""
        return self.tick_size * 10_000_000

    @property
    def venue_step(self) -> Decimal:
        """The size step in the venue's own order unit (contracts on OKX)."""
        return self.step_size / self.contract_value

    @property
    def venue_min_qty(self) -> Decimal:
        return self.min_qty / self.contract_value


def symbol_for(venue: str, base: str) -> str:
    """The venue's own name of the `base` USDT/USDC perpetual."""
    if venue == "okx":
        return f"{base}-USDT-SWAP"
    if venue == "backpack":
        return f"{base}_USDC_PERP"
    return f"{base}USDT"


# (tick, step, min_qty, min_notional) per venue and base; OKX rows are in base units
# (lotSz x ctVal), see OKX_CONTRACT_VALUE.
_RULES: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "binance": {
        "BTC": ("0.10", "0.001", "0.001", "100"),
        "ETH": ("0.01", "0.001", "0.001", "20"),
        "SOL": ("0.0100", "0.01", "0.01", "5"),
        "ASTER": ("0.00010", "1", "1", "5"),
    },
    "okx": {
        "BTC": ("0.1", "0.0001", "0.0001", "0"),
        "ETH": ("0.01", "0.001", "0.001", "0"),
        "SOL": ("0.01", "0.01", "0.01", "0"),
        "ASTER": ("0.0001", "10", "10", "0"),
    },
    "backpack": {
        "BTC": ("0.1", "0.0001", "0.0001", "0"),
        "ETH": ("0.01", "0.001", "0.001", "0"),
        "SOL": ("0.01", "0.01", "0.01", "0"),
        "ASTER": ("0.0001", "0.1", "0.1", "0"),
    },
    "aster": {
        "BTC": ("0.1", "0.001", "0.001", "5"),
        "ETH": ("0.01", "0.001", "0.001", "5"),
        "SOL": ("0.01", "0.01", "0.01", "5"),
        "ASTER": ("0.00001", "1", "1", "5"),
    },
}
OKX_CONTRACT_VALUE: dict[str, Decimal] = {
    "BTC": Decimal("0.01"),
    "ETH": Decimal("0.1"),
    "SOL": Decimal("1"),
    "ASTER": Decimal("10"),
}
_MAX_QTY: dict[str, Decimal] = {
    "BTC": Decimal("1000"),
    "ETH": Decimal("10000"),
    "SOL": Decimal("100000"),
    "ASTER": Decimal("10000000"),
}


def _funding_interval_ms(venue: str, base: str) -> int:
    if venue == "backpack":
        return HOUR_MS
    if (venue, base) in (("aster", "ASTER"), ("binance", "SOL")):  # both venues list some symbols on 4 h
        return 4 * HOUR_MS
    return 8 * HOUR_MS


def build_instruments(fees: Mapping[str, tuple[Decimal, Decimal]] | None = None) -> dict[str, dict[str, Instrument]]:
    """Return venue -> venue symbol -> Instrument for every listed perpetual (`fees` overrides FEES per venue)."""
    out: dict[str, dict[str, Instrument]] = {}
    for venue in VENUES:
        maker, taker = (fees or {}).get(venue, FEES[venue])
        per_venue: dict[str, Instrument] = {}
        for base in BASES:
            tick, step, min_qty, min_notional = _RULES[venue][base]
            symbol = symbol_for(venue, base)
            per_venue[symbol] = Instrument(
                venue=venue,
                symbol=symbol,
                base=base,
                quote=QUOTE_ASSET[venue],
                tick_size=Decimal(tick),
                step_size=Decimal(step),
                min_qty=Decimal(min_qty),
                max_qty=_MAX_QTY[base],
                min_notional=Decimal(min_notional),
                contract_value=OKX_CONTRACT_VALUE[base] if venue == "okx" else Decimal(1),
                maker_fee=maker,
                taker_fee=taker,
                funding_interval_ms=_funding_interval_ms(venue, base),
                max_leverage=125 if base in ("BTC", "ETH") else 50,
            )
        out[venue] = per_venue
    return out


def parse_fees(raw: str | None) -> dict[str, tuple[Decimal, Decimal]]:
    """Read `venue=maker/taker,...` (fractions: `aster=0.0001/0.00035`); a bad value is a ValueError saying why."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        venue, _, rates = item.partition("=")
        venue = venue.strip().lower()
        maker_raw, _, taker_raw = rates.partition("/")
        if venue not in VENUES:
            raise ValueError(f"unknown venue {venue!r} (one of {', '.join(VENUES)})")
        try:
            maker, taker = Decimal(maker_raw.strip()), Decimal(taker_raw.strip())
        except InvalidOperation:
            raise ValueError(f"{venue}: write maker/taker as fractions, e.g. {venue}=0.0002/0.0005") from None
        if (
            not (maker.is_finite() and taker.is_finite())
            or not (Decimal("-0.01") <= maker <= Decimal("0.01"))
            or not (Decimal(0) <= taker <= Decimal("0.01"))
        ):
            raise ValueError(
                f"{venue}: rates are fractions (0.0005 = 0.05 %): maker in [-0.01, 0.01], taker in [0, 0.01]"
            )
        out[venue] = (maker, taker)
    return out
