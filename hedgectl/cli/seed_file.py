"""The bp-aster loop's `--config` file: the seed's YAML (bp:, aster:, trade:) as a strict pydantic model.

Every section and key is declared (`extra="forbid"`): an unknown or missing one, a key with no value, a
credential that is not a string, a trade value outside the rule of the flag it stands for (`quantity` > 0, as
--qty) is one UsageError line (exit 2) naming the file and the key. Credentials (`bp.api_public_key_b64`/
`api_secret_key_b64`, `aster.api_key`/`api_secret`) stay SecretStr and are used only for a venue whose
environment/.env has none, never in paper mode; the example file's "YOUR_..." placeholders count as absent.
`base_url`, `window`, `recv_window` and `debug` are accepted so the seed's file loads as it is; a value that
differs from what hedgectl uses is a warning. Secret values never appear in a message, a repr or a warning.

The trade values reach the engine as `SeedValues` (LoopConfig field -> value, and the symbol);
`hedgectl.engine.maker_taker.config.build_config` puts the flags over them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, StrictStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from hedgectl.domain.symbols import canonical_symbol
from hedgectl.errors import UsageError

OFFICIAL_URLS = {"bp": "https://api.backpack.exchange", "aster": "https://fapi.asterdex.com"}
DEFAULT_RECV_WINDOW_MS = 5000
SECRET_KEYS = {
    ("bp", "api_public_key_b64"),
    ("bp", "api_secret_key_b64"),
    ("aster", "api_key"),
    ("aster", "api_secret"),
}
# YAML credential key -> (venue, the adapter's credential name)
_CREDENTIALS = {
    ("bp", "api_public_key_b64"): ("backpack", "api_key"),
    ("bp", "api_secret_key_b64"): ("backpack", "api_secret"),
    ("aster", "api_key"): ("aster", "api_key"),
    ("aster", "api_secret"): ("aster", "api_secret"),
}
SECRET_KEYS = set(_CREDENTIALS)
# trade key -> LoopConfig field
TRADE_FIELDS = {
    "quantity": "qty",
    "offset_percent": "offset_pct",
    "first_wait_seconds": "requote_after_s",
    "between_legs_sleep": "between_legs_s",
    "stop_before_funding_minutes": "stop_before_funding_min",
    "cycle_sleep": "cycle_sleep_s",
}
_EXACT = ("quantity", "offset_percent")  # kept as Decimal; the others are durations (float)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    @field_validator("*", mode="before")
    @classmethod
    def _has_a_value(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("no_value", "has no value")
        return value


class BpSection(_Section):
    api_public_key_b64: StrictStr | None = None
    api_secret_key_b64: StrictStr | None = None
    base_url: Any = None
    symbol: Any = None
    window: Any = None
    debug: Any = None


class AsterSection(_Section):
    api_key: StrictStr | None = None
    api_secret: StrictStr | None = None
    base_url: Any = None
    symbol: Any = None
    recv_window: Any = None
    debug: Any = None


class TradeSection(_Section):
    quantity: Decimal
    offset_percent: Decimal
    first_wait_seconds: Decimal
    between_legs_sleep: Decimal
    stop_before_funding_minutes: Decimal
    cycle_sleep: Decimal

    @field_validator("*", mode="before")
    @classmethod
    def _number_in_range(cls, raw: Any, info: ValidationInfo) -> Decimal:
        """A number within the rule of the flag it stands for (`LoopConfig.check`), told once, with the key."""
        if raw is None:
            raise PydanticCustomError("no_value", "has no value")
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise PydanticCustomError("not_number", "must be a number, got {raw}", {"raw": repr(raw)})
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise PydanticCustomError("not_number", "must be a number, got {raw}", {"raw": repr(raw)}) from None
        if info.field_name == "quantity":
            ok, rule = value.is_finite() and value > 0, "must be a positive number (as --qty)"
        elif info.field_name == "offset_percent":
            ok, rule = value.is_finite() and 0 < value < 50, "must be above 0 and below 50 (percent, as --offset-pct)"
        else:
            ok, rule = value.is_finite() and 0 <= value <= 7 * 86_400, "must be between 0 and 604800"
        if not ok:
            raise PydanticCustomError("out_of_range", rule + ", got {raw}", {"raw": repr(raw)})
        return value


class SeedDocument(BaseModel):
    """The whole file: `trade:` is required, `bp:` and `aster:` may be left out (or left empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    bp: BpSection = BpSection()
    aster: AsterSection = AsterSection()
    trade: TradeSection

    @field_validator("bp", "aster", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        return {} if value is None else value


SECTIONS: dict[str, type[_Section]] = {"bp": BpSection, "aster": AsterSection, "trade": TradeSection}
# section -> key -> (required, secret): the file's layout, as README and the example file show it
SCHEMA: dict[str, dict[str, tuple[bool, bool]]] = {
    section: {key: (info.is_required(), (section, key) in SECRET_KEYS) for key, info in model.model_fields.items()}
    for section, model in SECTIONS.items()
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
    if not isinstance(document, dict):
        raise UsageError(f"{where}: expected the sections bp:, aster: and trade:")
    try:
        seed = SeedDocument.model_validate(document)
    except ValidationError as exc:
        raise UsageError(f"{where}: {_first_problem(exc)}") from None
    trade = {TRADE_FIELDS[k]: (v if k in _EXACT else float(v)) for k, v in seed.trade.model_dump().items()}
    credentials: dict[str, dict[str, SecretStr]] = {}
    for (section, key), (venue, name) in _CREDENTIALS.items():
        value = (getattr(getattr(seed, section), key) or "").strip()
        if value and not value.upper().startswith("YOUR_"):
            credentials.setdefault(venue, {})[name] = SecretStr(value)
    return SeedFile(
        path=path, trade=trade, symbol=_symbol(where, seed), credentials=credentials, warnings=_warnings(where, seed)
    )


def _first_problem(exc: ValidationError) -> str:
    """The first of pydantic's errors in the words of the file: section and key, never a secret's value."""
    error = min(exc.errors(include_url=False, include_input=False), key=_precedence)
    loc = [str(part) for part in error["loc"]]
    kind = error["type"]
    if len(loc) == 1:
        section = loc[0]
        if kind == "extra_forbidden":
            return f"unknown section {section!r} (allowed: {', '.join(SECTIONS)})"
        if kind == "missing":
            return f"missing section {section!r}"
        return f"{section}: must be a mapping of keys to values"
    section, key = loc[0], loc[1]
    if kind == "extra_forbidden":
        return f"unknown key {section}.{key} (allowed: {', '.join(SCHEMA[section])})"
    if kind == "missing":
        return f"missing key {section}.{key}"
    if kind == "string_type":
        return f"{section}.{key} must be a string (quote it)"
    return f"{section}.{key} {error['msg']}"


def _precedence(error: Any) -> tuple[int, int, int]:
    """Which problem is told first (as the seed reads its file): unknown or missing sections, then section by
    section an unknown key, a missing one, then a value."""
    loc, kind = error["loc"], error["type"]
    section = list(SECTIONS).index(loc[0]) if loc[0] in SECTIONS else -1
    rank = {"extra_forbidden": 0, "missing": 1}.get(kind, 2)
    return (0, rank, section) if len(loc) == 1 else (1, section, rank)


def _symbol(where: str, seed: SeedDocument) -> str | None:
    found = {}
    for section in ("bp", "aster"):
        raw = getattr(seed, section).symbol
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


def _warnings(where: str, seed: SeedDocument) -> tuple[str, ...]:
    out = []
    for section, official in OFFICIAL_URLS.items():
        url = getattr(seed, section).base_url
        if url is not None and str(url).rstrip("/") != official:
            out.append(f"{where}: {section}.base_url {url} ignored: hedgectl uses {official} (the simulator in paper)")
    for section, value in (("bp", seed.bp.window), ("aster", seed.aster.recv_window)):
        key = "window" if section == "bp" else "recv_window"
        if value is not None and str(value) != str(DEFAULT_RECV_WINDOW_MS):
            out.append(f"{where}: {section}.{key} {value} ignored: set HEDGECTL_RECV_WINDOW_MS instead")
    return tuple(out)
