"""One settings layer: environment, then `.env` (or --env-file), then defaults.

Credential names are the ones users already have in their `.env` files. Secrets are SecretStr: their
repr is masked and they are unwrapped only by an adapter's signing call.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError
from hedgectl.venues.config import OKX_HOSTS

# Which settings fields hold each venue's credentials, keyed by the adapter's credential name.
CREDENTIAL_FIELDS: dict[str, dict[str, str]] = {
    "binance": {"api_key": "binance_api_key", "api_secret": "binance_api_secret"},
    "okx": {"api_key": "okx_api_key", "api_secret": "okx_api_secret", "passphrase": "okx_passphrase"},
    "backpack": {"api_key": "backpack_api_key", "api_secret": "backpack_api_secret"},
    "aster": {
        "api_key": "aster_api_key",
        "api_secret": "aster_api_secret",
        "user": "aster_user",
        "signer": "aster_signer",
        "private_key": "aster_private_key",
    },
}
# The credential sets that make a venue usable (any one set suffices).
REQUIRED_CREDENTIALS: dict[str, tuple[tuple[str, ...], ...]] = {
    "binance": (("api_key", "api_secret"),),
    "okx": (("api_key", "api_secret", "passphrase"),),
    "backpack": (("api_key", "api_secret"),),
    "aster": (("user", "signer", "private_key"), ("api_key", "api_secret")),
}

_ENV_WORDS: dict[str, Mode] = {
    "paper": Mode.PAPER,
    "sim": Mode.PAPER,
    "testnet": Mode.TESTNET,
    "test": Mode.TESTNET,
    "demo": Mode.TESTNET,
    "sandbox": Mode.TESTNET,
    "live": Mode.LIVE,
    "mainnet": Mode.LIVE,
    "prod": Mode.LIVE,
    "production": Mode.LIVE,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    mode: Mode | None = Field(default=None, alias="HEDGECTL_MODE")
    sim_url: str | None = Field(default=None, alias="HEDGECTL_SIM_URL")
    sim_seed: int = Field(default=0, alias="HEDGECTL_SIM_SEED")
    # Paper mode's market source: synthetic | replay:FILE | live (README "Market sources").
    sim_market: str | None = Field(default=None, alias="HEDGECTL_SIM_MARKET")
    sim_replay_speed: str | None = Field(default=None, alias="HEDGECTL_SIM_REPLAY_SPEED")
    sim_live_venues: str | None = Field(default=None, alias="HEDGECTL_SIM_LIVE_VENUES")
    sim_live_symbols: str | None = Field(default=None, alias="HEDGECTL_SIM_LIVE_SYMBOLS")
    sim_live_url: str | None = Field(default=None, alias="HEDGECTL_SIM_LIVE_URL")
    # Paper fees instead of the venues' published base tier: venue=maker/taker,... (fractions).
    sim_fees: str | None = Field(default=None, alias="HEDGECTL_SIM_FEES")
    # How long a second command waits for the paper account another command holds, seconds.
    paper_lock_wait_s: float = Field(default=10.0, alias="HEDGECTL_PAPER_LOCK_WAIT_S", ge=0, le=600)
    home: Path | None = Field(default=None, alias="HEDGECTL_HOME")
    max_notional_usdt: Decimal = Field(default=Decimal(1000), alias="HEDGECTL_MAX_NOTIONAL_USDT", gt=0)
    http_timeout_s: float = Field(default=10.0, alias="HEDGECTL_HTTP_TIMEOUT_S", gt=0, le=120)
    recv_window_ms: int = Field(default=5000, alias="HEDGECTL_RECV_WINDOW_MS", ge=1000, le=60000)
    market_cache_ttl_s: float = Field(default=3600.0, alias="HEDGECTL_MARKET_CACHE_TTL_S", ge=0)
    # The circuit breaker (hedgectl breaker): a daily realised loss limit in USDT (unset: none), and how many
    # venue errors within the window trip it during a carry.
    breaker_daily_loss_usdt: Decimal | None = Field(default=None, alias="HEDGECTL_BREAKER_DAILY_LOSS_USDT", gt=0)
    breaker_error_burst: int = Field(default=10, alias="HEDGECTL_BREAKER_ERROR_BURST", ge=1, le=10_000)
    breaker_error_window_s: float = Field(default=60.0, alias="HEDGECTL_BREAKER_ERROR_WINDOW_S", gt=0)
    # Alert URLs (webhooks, Telegram bot sendMessage URLs), separated by spaces or commas; --notify adds more.
    notify: SecretStr | None = Field(default=None, alias="HEDGECTL_NOTIFY")

    binance_api_key: SecretStr | None = Field(default=None, alias="BINANCE_API_KEY")
    binance_api_secret: SecretStr | None = Field(default=None, alias="BINANCE_API_SECRET")
    binance_env: str | None = Field(default=None, alias="BINANCE_ENV")
    okx_api_key: SecretStr | None = Field(default=None, alias="OKX_API_KEY")
    okx_api_secret: SecretStr | None = Field(default=None, alias="OKX_API_SECRET")
    okx_passphrase: SecretStr | None = Field(default=None, alias="OKX_PASSPHRASE")
    okx_env: str | None = Field(default=None, alias="OKX_ENV")
    okx_host: str = Field(default="www", alias="OKX_HOST")  # www | eea | my (OKX's regional domains)
    backpack_api_key: SecretStr | None = Field(default=None, alias="BACKPACK_API_KEY")
    backpack_api_secret: SecretStr | None = Field(default=None, alias="BACKPACK_API_SECRET")
    aster_api_key: SecretStr | None = Field(default=None, alias="ASTER_API_KEY")
    aster_api_secret: SecretStr | None = Field(default=None, alias="ASTER_API_SECRET")
    aster_user: SecretStr | None = Field(default=None, alias="ASTER_USER")
    aster_signer: SecretStr | None = Field(default=None, alias="ASTER_SIGNER")
    aster_private_key: SecretStr | None = Field(default=None, alias="ASTER_PRIVATE_KEY")
    aster_chain_id: int | None = Field(default=None, alias="ASTER_CHAIN_ID", gt=0, lt=2**63)

    @field_validator("mode", mode="before")
    @classmethod
    def _parse_mode(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value == "":
                return None
            if value not in {m.value for m in Mode}:
                raise ValueError("must be paper, testnet or live")
        return value

    @field_validator("binance_env", "okx_env", mode="before")
    @classmethod
    def _parse_venue_env(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value == "":
                return None
            if value not in _ENV_WORDS:
                raise ValueError(f"must be one of {', '.join(sorted(_ENV_WORDS))}")
        return value

    @field_validator("aster_chain_id", mode="before")
    @classmethod
    def _parse_chain_id(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @field_validator("okx_host", mode="before")
    @classmethod
    def _parse_okx_host(cls, value: Any) -> Any:
        if value is None:
            return "www"
        if isinstance(value, str):
            word = value.strip().lower().removesuffix(".okx.com")
            if word == "":
                return "www"
            if word not in OKX_HOSTS:
                raise ValueError(f"must be one of {', '.join(OKX_HOSTS)} (OKX's own domains)")
            return word
        return value

    @property
    def effective_mode(self) -> Mode:
        """HEDGECTL_MODE when set; else what BINANCE_ENV/OKX_ENV agree on if it is testnet; else paper.

        A per-venue env that disagrees with an explicit mode is a config error, and `live` is never
        inferred: it must be asked for with HEDGECTL_MODE=live (or --mode live).
        """
        venue_modes = {
            name: _ENV_WORDS[v]
            for name, v in (("BINANCE_ENV", self.binance_env), ("OKX_ENV", self.okx_env))
            if v is not None
        }
        if self.mode is not None:
            for name, venue_mode in venue_modes.items():
                if venue_mode is not self.mode:
                    raise ConfigError(
                        f"{name}={venue_mode.value} disagrees with HEDGECTL_MODE={self.mode.value}; make them match"
                    )
            return self.mode
        distinct = set(venue_modes.values())
        if len(distinct) > 1:
            raise ConfigError("BINANCE_ENV and OKX_ENV disagree; set HEDGECTL_MODE to choose the mode")
        if distinct == {Mode.LIVE}:
            raise ConfigError("the .env asks for live trading: set HEDGECTL_MODE=live explicitly to use real money")
        return distinct.pop() if distinct else Mode.PAPER

    def credentials(self, venue: str) -> dict[str, SecretStr]:
        """The credentials set for one venue, keyed by the adapter's names; empty values are left out."""
        out: dict[str, SecretStr] = {}
        for key, field_name in CREDENTIAL_FIELDS[venue].items():
            value = getattr(self, field_name)
            if value is not None and value.get_secret_value().strip():
                out[key] = SecretStr(value.get_secret_value().strip())
        return out

    def has_credentials(self, venue: str) -> bool:
        creds = self.credentials(venue)
        return any(all(k in creds for k in needed) for needed in REQUIRED_CREDENTIALS[venue])

    def missing_credentials(self, venue: str) -> str:
        """The env variable names a venue still needs, for an error message."""
        alternatives = []
        for needed in REQUIRED_CREDENTIALS[venue]:
            names = [CREDENTIAL_FIELDS[venue][k].upper() for k in needed]
            alternatives.append(" ".join(names))
        return " or ".join(alternatives)

    def state_dir(self) -> Path:
        if self.home is not None:
            return self.home.expanduser()
        import platformdirs

        return Path(platformdirs.user_state_dir("hedgectl"))

    def ensure_state_dir(self) -> Path:
        """The state directory, created when missing; a ConfigError naming it when it is not a writable directory."""
        home = self.state_dir()
        try:
            home.mkdir(parents=True, exist_ok=True)
            problem = None if os.access(home, os.W_OK | os.X_OK) else "not writable"
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
        if problem is not None:
            where = "HEDGECTL_HOME" if self.home is not None else "the state directory (HEDGECTL_HOME)"
            raise ConfigError(
                f"{where} {home} is unusable ({problem.lower()}): make it a writable directory, "
                "or set HEDGECTL_HOME to one"
            )
        return home


def load_settings(env_file: Path | None = None, *, mode_override: str | None = None) -> Settings:
    """Read settings once per process; any problem becomes a one-line ConfigError (no values echoed)."""
    if env_file is not None and not env_file.is_file():
        raise ConfigError(f"env file not found: {env_file}")
    try:
        settings = Settings(_env_file=env_file if env_file is not None else ".env")
        if mode_override is not None:
            parsed = Settings._parse_mode(mode_override)
            settings = settings.model_copy(update={"mode": Mode(parsed) if parsed else None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {where}: {first.get('msg', 'invalid value')}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read env file: {type(exc).__name__}") from None
    except ValueError as exc:
        raise ConfigError(f"invalid --mode: {exc}") from None
    if settings.effective_mode is not Mode.PAPER:  # paper mode never uses them
        _refuse_short_credentials(settings)
    return settings


# Real keys are 32-88 characters; OKX passphrases are chosen by the user (at least 8 when created today).
# Anything shorter is a placeholder or a typo - and masking it in messages would mangle ordinary words.
MIN_CREDENTIAL_LEN = 16
MIN_PASSPHRASE_LEN = 6


def _refuse_short_credentials(settings: Settings) -> None:
    for fields in CREDENTIAL_FIELDS.values():
        for key, field_name in fields.items():
            value: SecretStr | None = getattr(settings, field_name)
            length = len(value.get_secret_value().strip()) if value is not None else 0
            minimum = MIN_PASSPHRASE_LEN if key == "passphrase" else MIN_CREDENTIAL_LEN
            if 0 < length < minimum:
                raise ConfigError(
                    f"{field_name.upper()} is too short to be a real credential ({length} characters, "
                    f"at least {minimum} expected): check it in the environment or .env"
                )


def misspelled_settings(env_file: Path | None = None) -> list[str]:
    """One warning per HEDGECTL_* name (environment or env file) that is no setting, with the closest known name."""
    import difflib

    known = sorted(
        f.alias for f in Settings.model_fields.values() if f.alias is not None and f.alias.startswith("HEDGECTL_")
    )
    found = {name: "the environment" for name in os.environ if name.upper().startswith("HEDGECTL_")}
    path = env_file if env_file is not None else Path(".env")
    try:
        if path.is_file():
            from dotenv import dotenv_values

            for name in dotenv_values(path):
                if name.upper().startswith("HEDGECTL_"):
                    found.setdefault(name, str(path))
    except (OSError, UnicodeDecodeError):
        pass  # load_settings has said what is wrong with the file
    warnings = []
    for name, where in sorted(found.items()):
        if name.upper() in known:
            continue
        close = difflib.get_close_matches(name.upper(), known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
        warnings.append(f"{name} (in {where}) is not a hedgectl setting: {hint}")
    return warnings
