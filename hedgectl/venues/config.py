"""Where each venue lives in each mode, and what an adapter is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from hedgectl.domain.types import Mode

# REST bases of the real venues. `None`: the venue has no environment for that mode.
LIVE_URLS: dict[str, str] = {
    "binance": "https://fapi.binance.com",
    "okx": "https://www.okx.com",
    "backpack": "https://api.backpack.exchange",
    "aster": "https://fapi.asterdex.com",
}
TESTNET_URLS: dict[str, str | None] = {
    "binance": "https://demo-fapi.binance.com",  # futures demo trading (ccxt refuses the legacy testnet)
    "okx": "https://www.okx.com",  # demo trading: same host, header x-simulated-trading: 1
    "backpack": None,
    "aster": "https://fapi.asterdex-testnet.com",  # API-wallet (V3) auth only
}
TESTNET_HEADERS: dict[str, dict[str, str]] = {"okx": {"x-simulated-trading": "1"}}

# OKX_HOST -> OKX's REST domain and private WebSocket hosts (live, demo). Accounts opened under OKX's EEA entity
# only work on eea.okx.com / my.okx.com (50119 "API key doesn't exist" on www); ccxt's `myokx` uses eea.okx.com
# with wseea/wseeapap for its streams.
OKX_HOSTS: dict[str, str] = {"www": "www.okx.com", "eea": "eea.okx.com", "my": "my.okx.com"}
OKX_WS_HOSTS: dict[str, dict[Mode, str]] = {
    "www": {Mode.LIVE: "wss://ws.okx.com:8443", Mode.TESTNET: "wss://wspap.okx.com:8443"},
    "eea": {Mode.LIVE: "wss://wseea.okx.com:8443", Mode.TESTNET: "wss://wseeapap.okx.com:8443"},
    "my": {Mode.LIVE: "wss://wseea.okx.com:8443", Mode.TESTNET: "wss://wseeapap.okx.com:8443"},
}


def okx_rest_url(host: str) -> str:
    """The REST base of an OKX_HOST word (www, eea, my); KeyError for anything else."""
    return f"https://{OKX_HOSTS[host]}"


@dataclass(frozen=True)
class VenueConfig:
    """Everything an adapter needs; credentials stay SecretStr until the signing call."""

    name: str
    mode: Mode
    base_url: str  # REST base, e.g. https://fapi.binance.com or http://127.0.0.1:PORT/binance
    credentials: dict[str, SecretStr] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # sent on every request (OKX demo header)
    timeout_s: float = 10.0
    recv_window_ms: int = 5000
    cache_dir: Path | None = None  # market rules cache; None disables it
    market_cache_ttl_s: float = 3600.0
    # The private WebSocket base where it is not the mode's documented default (OKX's regional hosts).
    ws_url: str | None = None
    # Aster V3's EIP-712 chain id when ASTER_CHAIN_ID overrides the mode's (testnet 714, otherwise 1666).
    chain_id: int | None = None

    def secret(self, key: str) -> str:
        """The plain value of one credential, for signing only. Raises KeyError if absent."""
        value = self.credentials[key]
        return value.get_secret_value()

    def has(self, *keys: str) -> bool:
        return all(k in self.credentials and self.credentials[k].get_secret_value() for k in keys)

    def __repr__(self) -> str:
        return f"VenueConfig(name={self.name!r}, mode={self.mode.value!r}, base_url={self.base_url!r})"


class PaperVenues(Protocol):
    """Where paper mode's venues are: a simulator's base URL and the credentials it accepts.

    The CLI session provides it (`cli/paper.py`); the venue layer never imports the simulator.
    """

    def url(self) -> str:
        """The simulator's base URL; each venue lives under `/<venue>`."""
        ...

    def credentials(self, venue: str) -> dict[str, SecretStr]:
        """The keys the simulator accepts for `venue`."""
        ...
