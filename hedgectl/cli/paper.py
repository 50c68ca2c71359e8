"""Paper mode's venues: the simulator at HEDGECTL_SIM_URL, or an embedded one started when first needed.

The registry and the venue layer never import the simulator: paper mode reaches them as a URL and the
credentials the simulator accepts (`venues.config.PaperVenues`), handed over by the CLI session. This is the
one place that starts and stops the embedded simulator, and so the one that takes the paper-account lock
(`sim/account_lock.py`): a command that persists the account takes it; a read-only one (`persist=False`)
never waits for it and reads the holder's simulator instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from hedgectl.errors import ConfigError

if TYPE_CHECKING:
    from hedgectl.settings import Settings
    from hedgectl.sim.embedded import EmbeddedSimulator


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
            else:
                from hedgectl.sim.embedded import EmbeddedSimulator

                state_path = self._settings.state_dir() / "paper" / "sim-state.json"
                self._sim = EmbeddedSimulator(state_path, seed=self._settings.sim_seed, persist=self._persist)
                self._url = str(self._sim.start()).rstrip("/")
        return self._url

    def credentials(self, venue: str) -> dict[str, SecretStr]:
        """The fixed keys the simulator accepts for `venue`."""
        return paper_credentials(venue)

    def stop(self) -> None:
        """Stop the embedded simulator, which saves the paper account and releases its lock; idempotent."""
        if self._sim is not None:
            sim, self._sim = self._sim, None
            sim.stop()
