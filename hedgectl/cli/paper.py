"""Paper mode's venues: the simulator at HEDGECTL_SIM_URL, or an embedded one started when first needed.

The registry and the venue layer never import the simulator: paper mode reaches them as a URL and the
credentials the simulator accepts (`venues.config.PaperVenues`), handed over by the CLI session. This is the
one place that starts and stops the embedded simulator, and so the one that takes the paper-account lock
(`sim/account_lock.py`): a command that persists the account takes it; a read-only one (`persist=False`)
never waits for it and reads the holder's simulator instead.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import SecretStr

from hedgectl.errors import ConfigError

if TYPE_CHECKING:
    from hedgectl.settings import Settings
    from hedgectl.sim.embedded import EmbeddedSimulator
    from hedgectl.sim.market_source import MarketSpec


def market_spec(settings: Settings) -> MarketSpec:
    """Paper mode's market source from HEDGECTL_SIM_MARKET and friends; a bad value is one ConfigError."""
    from hedgectl.sim.market_source import parse_market

    return parse_market(
        settings.sim_market,
        speed=settings.sim_replay_speed,
        venues=settings.sim_live_venues,
        symbols=settings.sim_live_symbols,
        live_url=settings.sim_live_url or None,
    )


def sim_fees(settings: Settings) -> dict[str, tuple[Decimal, Decimal]] | None:
    """HEDGECTL_SIM_FEES read (None: the venues' published base-tier fees); a bad value is one ConfigError."""
    from hedgectl.sim.instruments import parse_fees

    try:
        return parse_fees(settings.sim_fees) or None
    except ValueError as exc:
        raise ConfigError(f"HEDGECTL_SIM_FEES: {exc}") from None


def remote_market(url: str, timeout_s: float) -> str:
    """The market source of a simulator started elsewhere (GET /_sim/market); "unknown" if it cannot say."""
    import httpx

    from hedgectl.venues.kit.http import tls_context

    try:
        response = httpx.get(f"{url}/_sim/market", timeout=timeout_s, verify=tls_context())
        label = response.json().get("label") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        label = None
    return label if isinstance(label, str) else "unknown"


def paper_credentials(venue: str) -> dict[str, SecretStr]:
    """The fixed keys the simulator accepts for `venue` (public on purpose: they guard nothing real)."""
    from hedgectl.sim.credentials import all_credentials

    return {k: SecretStr(v) for k, v in all_credentials()[venue].items()}


class PaperSimulator:
    """The simulator paper mode trades on: started on the first `url()`, stopped (and saved) by `stop()`."""

    def __init__(self, settings: Settings, *, persist: bool = True) -> None:
        self._settings = settings
        self._persist = persist  # False: load the paper account if it is there, never write it back
        self._sim: EmbeddedSimulator | None = None
        self._url: str | None = None
        # The simulator's market source once it is known ("synthetic", "replay FILE", "live"), and who to tell.
        self.market: str | None = None
        self.on_market: Callable[[str], None] | None = None

    def url(self) -> str:
        """The simulator's base URL (http://127.0.0.1:PORT); the embedded one starts on the first call."""
        if self._url is None:
            if self._settings.sim_url:
                url = self._settings.sim_url.rstrip("/")
                # The registry checks again; said here in the words of the setting the user gave.
                from hedgectl.venues.kit.host_guard import is_loopback

                if not is_loopback(url):
                    raise ConfigError("HEDGECTL_SIM_URL must point at a loopback address (127.0.0.1, localhost, ::1)")
                self._url = url
                self._set_market(remote_market(url, self._settings.http_timeout_s))
            else:
                from hedgectl.sim.embedded import EmbeddedSimulator

                spec = market_spec(self._settings)
                # Each market source keeps its own paper account: positions held on the synthetic walk are not
                # marked at real prices, and a replay starts from the account its last replay left.
                name = "sim-state.json" if spec.kind == "synthetic" else f"sim-state-{spec.kind}.json"
                state_path = self._settings.state_dir() / "paper" / name
                self._sim = EmbeddedSimulator(
                    state_path,
                    seed=self._settings.sim_seed,
                    persist=self._persist,
                    market=spec,
                    fees=sim_fees(self._settings),
                    lock_wait_s=self._settings.paper_lock_wait_s,
                )
                url = self._url = str(self._sim.start()).rstrip("/")
                # Reading another command's simulator (it holds the paper account): ask it which market it runs.
                own = self._sim.sim is not None
                self._set_market(spec.label if own else remote_market(url, self._settings.http_timeout_s))
        return self._url

    def _set_market(self, label: str) -> None:
        self.market = label
        if self.on_market is not None:
            self.on_market(label)

    def credentials(self, venue: str) -> dict[str, SecretStr]:
        """The fixed keys the simulator accepts for `venue`."""
        return paper_credentials(venue)

    def stop(self) -> None:
        """Stop the embedded simulator, which saves the paper account and releases its lock; idempotent."""
        if self._sim is not None:
            sim, self._sim = self._sim, None
            sim.stop()
