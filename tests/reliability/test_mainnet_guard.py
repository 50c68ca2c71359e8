"""No surprise trip to real money: in paper and testnet modes no request reaches a production host.

Every venue is built through the Registry in each mode, with credentials set, and asked for its clock and
its balances (a signed call). A wire tap under httpx and aiohttp (transports.py) sees every request and
refuses any production host. `live` without `--live` must stop before any connection is even attempted.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from hedgectl.cli import output, render
from hedgectl.cli.app import main
from hedgectl.cli.paper import PaperSimulator
from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError, VenueError
from hedgectl.settings import Settings
from hedgectl.venues.base import VENUE_IDS
from hedgectl.venues.registry import Registry
from reliability.rig import Rig
from reliability.secrets_fixtures import ADDRESSES, SENTINELS
from reliability.transports import PRODUCTION_HOSTS, TEST_HOSTS, Tap

pytestmark = pytest.mark.e2e


@pytest.fixture
def tap(monkeypatch: pytest.MonkeyPatch) -> Tap:
    wire = Tap()
    wire.install(monkeypatch)
    return wire


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every DNS lookup and socket connection."""
    attempts: list[str] = []

    def refuse_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"getaddrinfo {host}")
        raise OSError("no network in this test")

    def refuse_connect(sock: socket.socket, address: Any) -> Any:
        attempts.append(f"connect {address}")
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    return attempts


def _paper_registry(settings: Settings) -> Registry:
    """The registry as the CLI session builds it in paper mode: the simulator handed in as a URL source."""
    return Registry(settings, paper=PaperSimulator(settings))


def _settings(mode: str, **extra: str) -> Settings:
    values = {"HEDGECTL_MODE": mode, **SENTINELS, **ADDRESSES, **extra}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def _touch_every_venue(registry: Registry) -> dict[str, str]:
    """Build each venue through the registry and make a public and a signed call; say how each ended."""

    async def touch(name: str) -> str:
        try:
            registry.ensure_usable(name)
            venue = registry.venue(name)
            await venue.fetch_server_time()
            await venue.fetch_balances()
        except ConfigError as exc:
            return f"refused: {exc}"
        except VenueError as exc:
            return f"venue error: {type(exc).__name__}"
        return "ok"

    try:
        results = await asyncio.gather(*(touch(name) for name in VENUE_IDS))
    finally:
        await registry.aclose()
        if isinstance(registry.paper, PaperSimulator):
            registry.paper.stop()
    return dict(zip(VENUE_IDS, results, strict=True))


async def test_paper_mode_talks_only_to_the_simulator(tap: Tap, sim_rig: Rig) -> None:
    outcomes = await _touch_every_venue(_paper_registry(_settings("paper", HEDGECTL_SIM_URL=sim_rig.url)))
    assert outcomes == dict.fromkeys(VENUE_IDS, "ok")
    assert tap.requests, "the tap saw nothing: it is not under the adapters"
    assert {r.client for r in tap.requests} == {"httpx"}  # every adapter is native: none goes through aiohttp
    assert tap.off_loopback == []
    assert tap.violations == []


async def test_paper_mode_without_a_simulator_url_starts_its_own_on_loopback(tap: Tap, isolated_env: Path) -> None:
    outcomes = await _touch_every_venue(_paper_registry(_settings("paper", HEDGECTL_HOME=str(isolated_env))))
    assert outcomes == dict.fromkeys(VENUE_IDS, "ok")
    assert tap.requests
    assert tap.off_loopback == []


async def test_testnet_mode_reaches_only_test_hosts(tap: Tap) -> None:
    outcomes = await _touch_every_venue(Registry(_settings("testnet")))
    assert outcomes["backpack"].startswith("refused: backpack has no test environment")
    for name in ("binance", "okx", "aster"):
        assert outcomes[name].startswith("venue error"), outcomes  # the tap answers 401: auth refused
    assert tap.violations == []
    hosts = {r.host for r in tap.requests}
    assert hosts, "no request was made: the test proves nothing"
    assert hosts <= TEST_HOSTS, hosts
    assert not any("backpack" in h for h in hosts)
    okx = [r for r in tap.requests if r.host == "www.okx.com"]
    assert okx, "OKX was not called"
    assert all({k.lower(): v for k, v in r.headers.items()}.get("x-simulated-trading") == "1" for r in okx)


async def test_the_tap_catches_a_production_host(tap: Tap) -> None:
    """The guard above can fail: live mode (confirmed) does go to production, and the tap refuses it."""
    registry = Registry(_settings("live"), live_confirmed=True)
    outcomes = await _touch_every_venue(registry)
    assert all(o.startswith("venue error") for o in outcomes.values()), outcomes
    assert {r.host for r in tap.requests} <= PRODUCTION_HOSTS
    assert len(tap.violations) >= len(VENUE_IDS)


def test_live_mode_is_refused_by_the_registry_without_confirmation() -> None:
    with pytest.raises(ConfigError, match="--live"):
        Registry(_settings("live"))
    assert _settings("live").effective_mode is Mode.LIVE


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "live", "bootstrap", "--yes"],
        ["--mode", "live", "bootstrap", "--yes", "--json"],
        ["--mode", "live", "flatten", "--all", "--yes"],
        ["--mode", "live", "bp-aster", "loop", "--yes"],
        ["--mode", "mainnet", "bootstrap", "--yes"],
    ],
    ids=lambda a: " ".join(a),
)
def test_live_without_the_live_flag_exits_2_before_any_network_call(
    argv: list[str], tap: Tap, no_sockets: list[str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**SENTINELS, **ADDRESSES}.items():
        monkeypatch.setenv(name, value)
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main(argv)
    _, err = capsys.readouterr()
    output.STATE.json_mode = output.STATE.emitted = False
    assert info.value.code == 2, err
    assert "--live" in err or "live" in err
    assert tap.requests == []
    assert no_sockets == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "live", "connect", "--json"],
        ["--mode", "live", "prices", "--json"],
        ["--mode", "live", "scan", "--symbols", "BTC", "--json"],
        ["--mode", "live", "positions", "--json"],
        ["--mode", "live", "flatten", "--all", "--dry-run", "--json"],
    ],
    ids=lambda a: " ".join(a),
)
def test_read_only_commands_run_in_live_mode_without_the_live_flag_and_send_only_reads(
    argv: list[str], tap: Tap, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**SENTINELS, **ADDRESSES}.items():
        monkeypatch.setenv(name, value)
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    output.STATE.json_mode = output.STATE.emitted = False
    assert info.value.code != 2, err
    assert "LIVE" in err
    assert json.loads(out)["live"] is True
    assert tap.requests, "nothing was read: the command did not run"
    assert {r.host for r in tap.requests} <= PRODUCTION_HOSTS
    orders = [r for r in tap.requests if r.method in ("POST", "DELETE") and "order" in r.url.lower()]
    assert orders == []


def test_connect_reports_malformed_keys_as_that_venues_auth_status(
    tap: Tap, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPACK_API_KEY", "this is not base64!")
    monkeypatch.setenv("BACKPACK_API_SECRET", "neither is this one!")
    monkeypatch.setenv("ASTER_USER", "0x" + "z" * 40)
    monkeypatch.setenv("ASTER_SIGNER", ADDRESSES["ASTER_SIGNER"])
    monkeypatch.setenv("ASTER_PRIVATE_KEY", SENTINELS["ASTER_PRIVATE_KEY"])
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main(["--mode", "live", "connect", "--json", "--venue", "backpack", "--venue", "aster"])
    out, err = capsys.readouterr()
    output.STATE.json_mode = output.STATE.emitted = False
    assert info.value.code == 1, err
    assert "venues" in json.loads(out), out
    venues = {v["venue"]: v for v in json.loads(out)["venues"]}
    assert venues["backpack"]["auth_ok"] is False
    assert "base64" in venues["backpack"]["error"]
    assert venues["aster"]["auth_ok"] is False
    assert "ASTER_USER" in venues["aster"]["error"]
    assert tap.requests == []


def test_connect_reports_a_backpack_key_pair_that_does_not_match_as_its_auth_status(
    tap: Tap, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    monkeypatch.setenv("BACKPACK_API_KEY", SENTINELS["BACKPACK_API_KEY"])
    monkeypatch.setenv("BACKPACK_API_SECRET", base64.b64encode(b"another-seed-of-thirty-two-bytes").decode())
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main(["--mode", "live", "connect", "--json", "--venue", "backpack"])
    out, err = capsys.readouterr()
    output.STATE.json_mode = output.STATE.emitted = False
    assert info.value.code == 1, err
    (backpack,) = json.loads(out)["venues"]
    assert backpack["auth_ok"] is False
    assert "does not match" in backpack["error"]
    assert tap.requests == []


async def test_a_read_only_registry_refuses_order_operations_before_any_request(tap: Tap) -> None:
    registry = Registry(_settings("live"), read_only=True)
    try:
        venue = registry.venue("binance")
        with pytest.raises(ConfigError, match="read-only"):
            await venue.cancel_all_orders()
        with pytest.raises(ConfigError, match="read-only"):
            await venue.cancel_order("BTC", order_id="1")
    finally:
        await registry.aclose()
    assert tap.requests == []


def test_live_set_in_the_environment_is_refused_the_same_way(
    tap: Tap, no_sockets: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "live")
    with pytest.raises(SystemExit) as info:
        main(["bootstrap", "--yes"])
    assert info.value.code == 2
    assert "--live" in capsys.readouterr().err
    assert tap.requests == []
    assert no_sockets == []


def test_a_venue_env_asking_for_mainnet_is_not_taken_for_live(
    tap: Tap, no_sockets: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINANCE_ENV", "mainnet")
    with pytest.raises(SystemExit) as info:
        main(["bootstrap", "--yes"])
    assert info.value.code == 2
    assert "HEDGECTL_MODE=live" in capsys.readouterr().err
    assert tap.requests == []
    assert no_sockets == []


async def test_a_simulator_url_off_loopback_is_refused_before_any_request(tap: Tap) -> None:
    registry = _paper_registry(_settings("paper", HEDGECTL_SIM_URL="https://fapi.binance.com"))
    with pytest.raises(ConfigError, match="loopback"):
        registry.venue("binance")
    await registry.aclose()
    assert tap.requests == []
