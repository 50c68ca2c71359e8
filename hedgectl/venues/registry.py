"""Settings + mode -> venues, built once per process and shared by every command.

paper:   every venue points at the simulator over loopback (embedded unless HEDGECTL_SIM_URL is set),
         with the simulator's credentials; no keys, no network.
testnet: only the venues' test environments; a venue without one is refused with a clear message.
live:    refused unless the command was given --live (the CLI adds a typed confirmation on a TTY), or the
         registry is read-only: then every venue is a ReadOnlyVenue, which refuses any order operation.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError, UsageError
from hedgectl.venues.base import VENUE_IDS, Venue
from hedgectl.venues.config import (
    LIVE_URLS,
    OKX_WS_HOSTS,
    TESTNET_HEADERS,
    TESTNET_URLS,
    VenueConfig,
    okx_rest_url,
)
from hedgectl.venues.host_guard import is_loopback
from hedgectl.venues.read_only import read_only

if TYPE_CHECKING:
    from hedgectl.settings import Settings

# venue id -> (module, class); imported only when that venue is first used.
ADAPTERS: dict[str, tuple[str, str]] = {
    "binance": ("hedgectl.venues.ccxt_venue", "CcxtVenue"),
    "okx": ("hedgectl.venues.ccxt_venue", "CcxtVenue"),
    "backpack": ("hedgectl.venues.backpack.venue", "BackpackVenue"),
    "aster": ("hedgectl.venues.aster.venue", "AsterVenue"),
}


def parse_venue(name: str) -> str:
    """Validate a venue name a user typed."""
    venue = name.strip().lower()
    if venue not in VENUE_IDS:
        raise UsageError(f"unknown venue {name!r}: choose from {', '.join(VENUE_IDS)}")
    return venue


@dataclass
class Registry:
    settings: Settings
    live_confirmed: bool = False
    read_only: bool = False  # a read-only command: venues refuse every order operation; live needs no --live
    persist: bool = True  # save the paper account back to HEDGECTL_HOME (False: the home is not writable)
    _venues: dict[str, Venue] = field(default_factory=dict)
    _sim: Any = None
    _sim_url: str | None = None
    # Paper mode: the simulator's market source once it is known ("synthetic", "replay FILE", "live"), and who
    # to tell (the CLI shows it).
    market: str | None = None
    on_market: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.mode = self.settings.effective_mode
        if self.mode is Mode.LIVE and not self.live_confirmed and not self.read_only:
            raise ConfigError("live mode trades real money: pass --live to confirm (and --yes in scripts)")

    # -- what exists --------------------------------------------------------------------------------
    def configured(self) -> list[str]:
        """Venues usable in this mode: all four in paper; otherwise those with credentials and an environment."""
        if self.mode is Mode.PAPER:
            return list(VENUE_IDS)
        return [
            v
            for v in VENUE_IDS
            if self.settings.has_credentials(v) and (self.mode is Mode.LIVE or TESTNET_URLS[v] is not None)
        ]

    def ensure_usable(self, venue: str) -> None:
        """Raise a ConfigError saying why `venue` cannot be used in this mode."""
        if self.mode is Mode.PAPER:
            return
        if self.mode is Mode.TESTNET and TESTNET_URLS[venue] is None:
            raise ConfigError(f"{venue} has no test environment: use paper mode, or live with --live")
        if not self.settings.has_credentials(venue):
            needed = self.settings.missing_credentials(venue)
            raise ConfigError(f"{venue}: missing credentials for {self.mode.value} mode: set {needed}")

    # -- building -----------------------------------------------------------------------------------
    def venue_config(self, venue: str) -> VenueConfig:
        self.ensure_usable(venue)
        headers: dict[str, str] = {}
        credentials: dict[str, SecretStr]
        if self.mode is Mode.PAPER:
            base = f"{self.sim_url()}/{venue}"
            credentials = _sim_credentials(venue)
        elif self.mode is Mode.TESTNET:
            base = TESTNET_URLS[venue] or ""  # ensure_usable refused venues without one
            headers = dict(TESTNET_HEADERS.get(venue, {}))
            credentials = self.settings.credentials(venue)
        else:
            base = LIVE_URLS[venue]
            credentials = self.settings.credentials(venue)
        ws_url = None
        if venue == "okx" and self.mode is not Mode.PAPER:
            # OKX_HOST: the regional domain (REST, host guard) and its stream hosts; demo trading uses the same.
            base = okx_rest_url(self.settings.okx_host)
            ws_url = OKX_WS_HOSTS[self.settings.okx_host][self.mode]
        return VenueConfig(
            name=venue,
            mode=self.mode,
            base_url=base,
            credentials=credentials,
            headers=headers,
            timeout_s=self.settings.http_timeout_s,
            recv_window_ms=self.settings.recv_window_ms,
            cache_dir=self.settings.state_dir() / "cache",
            market_cache_ttl_s=self.settings.market_cache_ttl_s,
            ws_url=ws_url,
            # Paper: the simulator stands in for mainnet, whatever ASTER_CHAIN_ID says for the real venue.
            chain_id=self.settings.aster_chain_id if venue == "aster" and self.mode is not Mode.PAPER else None,
        )

    def venue(self, name: str) -> Venue:
        """The one adapter instance for `name` in this process."""
        venue = parse_venue(name)
        if venue not in self._venues:
            module_name, class_name = ADAPTERS[venue]
            adapter_class = getattr(importlib.import_module(module_name), class_name)
            adapter: Venue = adapter_class(self.venue_config(venue))
            self._venues[venue] = read_only(adapter) if self.read_only else adapter
        return self._venues[venue]

    def sim_url(self) -> str:
        """The simulator's base URL (paper mode only); starts the embedded simulator on first use."""
        if self.mode is not Mode.PAPER:
            raise ConfigError("the simulator is only used in paper mode")
        if self._sim_url is None:
            if self.settings.sim_url:
                url = self.settings.sim_url.rstrip("/")
                if not is_loopback(url):
                    raise ConfigError("HEDGECTL_SIM_URL must point at a loopback address (127.0.0.1, localhost, ::1)")
                self._sim_url = url
                self._set_market(_remote_market(url, self.settings.http_timeout_s))
            else:
                from hedgectl.sim.embedded import EmbeddedSimulator

                spec = self.settings.market_spec()
                # Each market source keeps its own paper account: positions held on the synthetic walk are
                # not marked at real prices, and a replay starts from the account its last replay left.
                name = "sim-state.json" if spec.kind == "synthetic" else f"sim-state-{spec.kind}.json"
                state_path: Path = self.settings.state_dir() / "paper" / name
                self._sim = EmbeddedSimulator(
                    state_path, seed=self.settings.sim_seed, persist=self.persist and not self.read_only, market=spec
                )
                self._sim_url = str(self._sim.start()).rstrip("/")
                self._set_market(
                    spec.label
                    if self._sim.sim is not None
                    else _remote_market(self._sim_url, self.settings.http_timeout_s)
                )
        return self._sim_url

    def _set_market(self, label: str) -> None:
        self.market = label
        if self.on_market is not None:
            self.on_market(label)

    async def aclose(self) -> None:
        """Close every adapter, then stop the embedded simulator (which persists the paper account)."""
        venues, self._venues = list(self._venues.values()), {}
        for venue in venues:
            # closing must not mask the command's own outcome
            with contextlib.suppress(Exception):
                await venue.close()
        if self._sim is not None:
            sim, self._sim = self._sim, None
            sim.stop()


def _remote_market(url: str, timeout_s: float) -> str:
    """The market source of a simulator started elsewhere (GET /_sim/market); "unknown" if it cannot say."""
    import httpx

    try:
        response = httpx.get(f"{url}/_sim/market", timeout=timeout_s)
        label = response.json().get("label") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        label = None
    return label if isinstance(label, str) else "unknown"


def _sim_credentials(venue: str) -> dict[str, SecretStr]:
    from hedgectl.sim.credentials import all_credentials

    return {k: SecretStr(v) for k, v in all_credentials()[venue].items()}
