"""The bp-aster loop's settings: the seed's YAML file (bp:, aster:, trade:), read strictly, and flags over it.

Precedence, per value: a flag given on the command line, else the YAML's `trade:` value, else the seed's
default. Credentials in the YAML (`bp.api_public_key_b64`/`api_secret_key_b64`, `aster.api_key`/`api_secret`)
are used only for a venue whose environment/.env has no credentials of its own (the .env wins), and never in
paper mode; the example file's "YOUR_..." placeholders count as absent. `base_url`, `window`, `recv_window`
and `debug` are accepted so the seed's file loads as it is, but hedgectl always talks to the official hosts
(or the simulator in paper mode), uses HEDGECTL_RECV_WINDOW_MS for both venues and `-v` for debug output;
a value that differs from what hedgectl uses is reported as a warning. Secret values never appear in a
message, a repr or a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hedgectl.domain.symbols import canonical_symbol
from hedgectl.errors import UsageError

OFFICIAL_URLS = {"bp": "https://api.backpack.exchange", "aster": "https://fapi.asterdex.com"}
DEFAULT_RECV_WINDOW_MS = 5000


class OnExit(StrEnum):
    """What a stopped loop leaves behind: nothing (flatten), or both legs exactly hedged."""

    FLATTEN = "flatten"
    KEEP_HEDGED = "keep-hedged"


@dataclass(frozen=True)
class LoopConfig:
    """The seed's trade parameters (same defaults) plus the venues, symbol, cycle count and exit policy."""

    symbol: str = "ASTER"
    qty: Decimal = Decimal(10)  # quantity
    offset_pct: Decimal = Decimal("0.2")  # offset_percent
    requote_after_s: float = 10.0  # first_wait_seconds
    between_legs_s: float = 20.0  # between_legs_sleep
    cycle_sleep_s: float = 60.0  # cycle_sleep
    stop_before_funding_min: float = 5.0  # stop_before_funding_minutes
    cycles: int | None = None  # None: until stopped
    maker_venue: str = "backpack"
    taker_venue: str = "aster"
    on_exit: OnExit = OnExit.FLATTEN
    poll_interval_s: float = 0.2  # how often a resting maker order is re-read while no stream feeds fills

    def check(self) -> None:
        """Refuse values that cannot work (before anything is connected)."""
        if not self.qty.is_finite() or self.qty <= 0:
            raise UsageError(f"--qty must be a positive number, got {self.qty}")
        if not self.offset_pct.is_finite() or not Decimal(0) < self.offset_pct < Decimal(50):
            raise UsageError(f"--offset-pct must be above 0 and below 50 (percent), got {self.offset_pct}")
        for name, value in (
            ("--requote-after", self.requote_after_s),
            ("--between-legs", self.between_legs_s),
            ("--cycle-sleep", self.cycle_sleep_s),
            ("--stop-before-funding", self.stop_before_funding_min),
        ):
            if not 0 <= value <= 7 * 86_400:
                raise UsageError(f"{name} must be between 0 and 604800, got {value:g}")
        if self.cycles is not None and self.cycles < 1:
            raise UsageError(f"--cycles must be at least 1, got {self.cycles}")
        if self.maker_venue == self.taker_venue:
            raise UsageError("--maker and --taker must be two different venues")


# -- the seed's YAML ---------------------------------------------------------------------------------

# section -> key -> (required, secret)
_SCHEMA: dict[str, dict[str, tuple[bool, bool]]] = {
    "bp": {
        "api_public_key_b64": (False, True),
        "api_secret_key_b64": (False, True),
        "base_url": (False, False),
        "symbol": (False, False),
        "window": (False, False),
        "debug": (False, False),
    },
    "aster": {
        "api_key": (False, True),
        "api_secret": (False, True),
        "base_url": (False, False),
        "symbol": (False, False),
        "recv_window": (False, False),
        "debug": (False, False),
    },
    "trade": {
        "quantity": (True, False),
        "offset_percent": (True, False),
        "first_wait_seconds": (True, False),
        "between_legs_sleep": (True, False),
        "stop_before_funding_minutes": (True, False),
        "cycle_sleep": (True, False),
    },
}
_REQUIRED_SECTIONS = ("trade",)
# YAML credential key -> (venue, the adapter's credential name)
_CREDENTIALS = {
    ("bp", "api_public_key_b64"): ("backpack", "api_key"),
    ("bp", "api_secret_key_b64"): ("backpack", "api_secret"),
    ("aster", "api_key"): ("aster", "api_key"),
    ("aster", "api_secret"): ("aster", "api_secret"),
}
# trade key -> LoopConfig field
TRADE_FIELDS = {
    "quantity": "qty",
    "offset_percent": "offset_pct",
    "first_wait_seconds": "requote_after_s",
    "between_legs_sleep": "between_legs_s",
    "stop_before_funding_minutes": "stop_before_funding_min",
    "cycle_sleep": "cycle_sleep_s",
}


@dataclass(frozen=True)
class SeedFile:
    """What a seed YAML file says, validated. Credentials stay SecretStr (masked in any repr)."""

    path: Path
    trade: dict[str, Any]  # LoopConfig field -> value
    symbol: str | None = None
    credentials: dict[str, dict[str, SecretStr]] = field(default_factory=dict)  # venue -> name -> secret
    warnings: tuple[str, ...] = ()


def load_seed_file(path: Path) -> SeedFile:
    """Read and validate the seed's YAML; any problem is a one-line UsageError (exit 2) naming the key."""
    import yaml

    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"config file not found: {where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {where}: {type(exc).__name__}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{where}: not valid YAML{at}") from None
    return parse_seed(document, path)


def parse_seed(document: Any, path: Path) -> SeedFile:
    """Validate a loaded YAML document against the seed's layout: no unknown keys, no missing ones."""
    where = str(path)
    if not isinstance(document, Mapping):
        raise UsageError(f"{where}: expected the sections bp:, aster: and trade:")
    unknown = [str(k) for k in document if k not in _SCHEMA]
    if unknown:
        raise UsageError(f"{where}: unknown section {unknown[0]!r} (allowed: {', '.join(_SCHEMA)})")
    for section in _REQUIRED_SECTIONS:
        if section not in document:
            raise UsageError(f"{where}: missing section {section!r}")
    sections: dict[str, Mapping[str, Any]] = {}
    for section, keys in _SCHEMA.items():
        body = document.get(section)
        if body is None:
            body = {}
        if not isinstance(body, Mapping):
            raise UsageError(f"{where}: {section}: must be a mapping of keys to values")
        bad = [str(k) for k in body if k not in keys]
        if bad:
            raise UsageError(f"{where}: unknown key {section}.{bad[0]} (allowed: {', '.join(keys)})")
        missing = [k for k, (required, _) in keys.items() if required and k not in body]
        if missing:
            raise UsageError(f"{where}: missing key {section}.{missing[0]}")
        for key, (_, secret) in keys.items():
            if key in body and body[key] is None:
                raise UsageError(f"{where}: {section}.{key} has no value")
            if secret and key in body and not isinstance(body[key], str):
                raise UsageError(f"{where}: {section}.{key} must be a string (quote it)")
        sections[section] = body
    trade = {TRADE_FIELDS[k]: _trade_value(where, k, v) for k, v in sections["trade"].items()}
    symbol = _symbol(where, sections)
    credentials: dict[str, dict[str, SecretStr]] = {}
    for (section, key), (venue, name) in _CREDENTIALS.items():
        value = str(sections[section].get(key, "")).strip()
        if value and not value.upper().startswith("YOUR_"):
            credentials.setdefault(venue, {})[name] = SecretStr(value)
    return SeedFile(
        path=path, trade=trade, symbol=symbol, credentials=credentials, warnings=tuple(_warnings(where, sections))
    )


def _trade_value(where: str, key: str, raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise UsageError(f"{where}: trade.{key} must be a number, got {raw!r}")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise UsageError(f"{where}: trade.{key} must be a number, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise UsageError(f"{where}: trade.{key} must be a non-negative number, got {raw!r}")
    if key in ("quantity", "offset_percent"):
        return value
    return float(value)


def _symbol(where: str, sections: Mapping[str, Mapping[str, Any]]) -> str | None:
    found = {}
    for section in ("bp", "aster"):
        raw = sections[section].get("symbol")
        if raw is None:
            continue
        try:
            found[section] = canonical_symbol(str(raw))
        except UsageError:
            raise UsageError(f"{where}: {section}.symbol {raw!r} is not a symbol") from None
    if len(set(found.values())) > 1:
        raise UsageError(
            f"{where}: bp.symbol and aster.symbol name different assets ({found['bp']} and {found['aster']})"
        )
    return next(iter(found.values()), None)


def _warnings(where: str, sections: Mapping[str, Mapping[str, Any]]) -> list[str]:
    out = []
    for section, official in OFFICIAL_URLS.items():
        url = sections[section].get("base_url")
        if url is not None and str(url).rstrip("/") != official:
            out.append(f"{where}: {section}.base_url {url} ignored: hedgectl uses {official} (the simulator in paper)")
    for section, key in (("bp", "window"), ("aster", "recv_window")):
        value = sections[section].get(key)
        if value is not None and str(value) != str(DEFAULT_RECV_WINDOW_MS):
            out.append(f"{where}: {section}.{key} {value} ignored: set HEDGECTL_RECV_WINDOW_MS instead")
    return out


def build_config(flags: Mapping[str, Any], seed: SeedFile | None) -> LoopConfig:
    """Flags (None = not given) over the seed file's values over the defaults; then checked."""
    values: dict[str, Any] = {}
    if seed is not None:
        values.update(seed.trade)
        if seed.symbol is not None:
            values["symbol"] = seed.symbol
    values.update({k: v for k, v in flags.items() if v is not None})
    config = replace(LoopConfig(), **values)
    config.check()
    return config
