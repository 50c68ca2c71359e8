"""Settings + mode -> venues, built once per process and shared by every command.

paper:   every venue points at the simulator over loopback, with the simulator's credentials; no keys, no
         network. Paper mode is a URL: the caller hands in where the simulator is (`PaperVenues`; the CLI
         session starts an embedded one when needed) and this module never imports `hedgectl.sim`.
testnet: only the venues' test environments; a venue without one is refused with a clear message.
live:    refused unless the command was given --live (the CLI adds a typed confirmation on a TTY), or the
         registry is read-only: then every venue is a ReadOnlyVenue, which refuses any order operation.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError, UsageError
from hedgectl.venues.base import VENUE_IDS, Venue
from hedgectl.venues.config import (
    LIVE_URLS,
    OKX_WS_HOSTS,
    TESTNET_HEADERS,
    TESTNET_URLS,
    PaperVenues,
    VenueConfig,
    okx_rest_url,
)
from hedgectl.venues.kit.host_guard import is_loopback
from hedgectl.venues.read_only import read_only

if TYPE_CHECKING:
    from hedgectl.settings import Settings

# venue id -> (module, class); imported only when that venue is first used.
ADAPTERS: dict[str, tuple[str, str]] = {
    "binance": ("hedgectl.venues.binance.venue", "BinanceVenue"),
    "okx": ("hedgectl.venues.okx.venue", "OkxVenue"),
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
    paper: PaperVenues | None = None  # paper mode's simulator (URL and credentials); required in paper mode
    _venues: dict[str, Venue] = field(default_factory=dict)
    _sim_url: str | None = None

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
            credentials = self._paper().credentials(venue)
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

    def _paper(self) -> PaperVenues:
        if self.mode is not Mode.PAPER:
            raise ConfigError("the simulator is only used in paper mode")
        if self.paper is None:
            raise ConfigError("paper mode needs a simulator: none was given to the venue registry")
        return self.paper

    def sim_url(self) -> str:
        """The simulator's base URL (paper mode only), from the PaperVenues handed in; always loopback."""
        if self._sim_url is None:
            url = self._paper().url().rstrip("/")
            if not is_loopback(url):
                raise ConfigError(
                    f"paper mode only talks to a simulator on loopback; refusing {url} "
                    "(HEDGECTL_SIM_URL must point at a loopback address: 127.0.0.1, localhost, ::1)"
                )
            self._sim_url = url
        return self._sim_url

    async def aclose(self) -> None:
        """Close every adapter (the simulator, if any, is its owner's to stop)."""
        venues, self._venues = list(self._venues.values()), {}
        for venue in venues:
            # closing must not mask the command's own outcome
            with contextlib.suppress(Exception):
                await venue.close()
