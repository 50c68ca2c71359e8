from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from hedgectl.cli.paper import PaperSimulator
from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError, UsageError
from hedgectl.settings import load_settings
from hedgectl.venues.kit.host_guard import ensure_allowed, is_loopback
from hedgectl.venues.registry import Registry, parse_venue


def _paper_registry() -> Registry:
    settings = load_settings()
    return Registry(settings, paper=PaperSimulator(settings))


def test_paper_mode_points_every_venue_at_the_loopback_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_URL", "http://127.0.0.1:8765")
    registry = _paper_registry()
    assert registry.configured() == ["binance", "okx", "backpack", "aster"]
    for venue in registry.configured():
        config = registry.venue_config(venue)
        assert config.mode is Mode.PAPER
        assert config.base_url == f"http://127.0.0.1:8765/{venue}"
        assert is_loopback(config.base_url)
        assert config.credentials  # the simulator's own keys: none needed from the user


def test_paper_mode_refuses_a_simulator_off_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_URL", "https://fapi.binance.com")
    with pytest.raises(ConfigError, match="loopback"):
        _paper_registry().venue_config("binance")


class _FixedPaper:
    """Paper venues as a plain URL, the way a caller other than the CLI hands them in."""

    def __init__(self, url: str) -> None:
        self.urls_asked = 0
        self._url = url

    def url(self) -> str:
        self.urls_asked += 1
        return self._url

    def credentials(self, venue: str) -> dict[str, SecretStr]:
        return {"api_key": SecretStr(f"{venue}-key-0123456789")}


def test_paper_mode_is_a_url_the_registry_is_handed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEDGECTL_SIM_URL", raising=False)
    paper = _FixedPaper("http://127.0.0.1:9999/")
    registry = Registry(load_settings(), paper=paper)
    assert paper.urls_asked == 0  # nothing is started or asked before a venue is needed
    config = registry.venue_config("okx")
    registry.venue_config("aster")
    assert config.base_url == "http://127.0.0.1:9999/okx"
    assert config.secret("api_key") == "okx-key-0123456789"
    assert paper.urls_asked == 1


def test_a_handed_in_url_off_loopback_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEDGECTL_SIM_URL", raising=False)
    with pytest.raises(ConfigError, match=r"refusing https://fapi\.binance\.com"):
        Registry(load_settings(), paper=_FixedPaper("https://fapi.binance.com")).venue_config("binance")


def test_paper_mode_without_a_simulator_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEDGECTL_SIM_URL", raising=False)
    with pytest.raises(ConfigError, match="paper mode needs a simulator"):
        Registry(load_settings()).venue_config("binance")


@pytest.mark.parametrize(
    "module",
    [
        "hedgectl.venues.registry",
        "hedgectl.venues.backpack.venue",
        "hedgectl.venues.aster.venue",
        "hedgectl.venues.binance.venue",
        "hedgectl.venues.okx.venue",
        "hedgectl.venues.kit.http",
    ],
)
def test_the_venue_layer_does_not_import_the_simulator(module: str) -> None:
    code = (
        "import sys, importlib\n"
        f"importlib.import_module({module!r})\n"
        "print('SIM:' + ','.join(sorted(m for m in sys.modules if m.split('.')[:2] == ['hedgectl', 'sim'])))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "SIM:"


def test_testnet_uses_only_test_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "testnet")
    for name in (
        "BINANCE_API_KEY",
        "BINANCE_API_SECRET",
        "OKX_API_KEY",
        "OKX_API_SECRET",
        "OKX_PASSPHRASE",
        "ASTER_USER",
        "ASTER_SIGNER",
        "ASTER_PRIVATE_KEY",
        "BACKPACK_API_KEY",
        "BACKPACK_API_SECRET",
    ):
        monkeypatch.setenv(name, "x" * 40)  # placeholders long enough to pass as keys
    registry = Registry(load_settings())
    assert registry.configured() == ["binance", "okx", "aster"]
    assert registry.venue_config("binance").base_url == "https://demo-fapi.binance.com"
    okx = registry.venue_config("okx")
    assert okx.headers == {"x-simulated-trading": "1"}
    assert registry.venue_config("aster").base_url == "https://fapi.asterdex-testnet.com"
    with pytest.raises(ConfigError, match="backpack has no test environment"):
        registry.venue_config("backpack")


def test_testnet_names_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "testnet")
    with pytest.raises(ConfigError, match="OKX_API_KEY OKX_API_SECRET OKX_PASSPHRASE"):
        Registry(load_settings()).venue_config("okx")


def test_live_is_refused_without_explicit_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "live")
    with pytest.raises(ConfigError, match="--live"):
        Registry(load_settings())
    registry = Registry(load_settings(), live_confirmed=True)
    assert registry.mode is Mode.LIVE


def test_unknown_venue_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown venue 'kraken'"):
        parse_venue("kraken")
    assert parse_venue(" OKX ") == "okx"


def test_host_guard_refuses_any_other_origin() -> None:
    ensure_allowed("https://demo-fapi.binance.com/fapi/v1/order", "https://demo-fapi.binance.com", venue="binance")
    with pytest.raises(ConfigError, match=r"refusing a request to https://fapi\.binance\.com"):
        ensure_allowed("https://fapi.binance.com/fapi/v1/order", "https://demo-fapi.binance.com", venue="binance")
    with pytest.raises(ConfigError):
        ensure_allowed("http://127.0.0.1:9/okx/api/v5/x", "http://127.0.0.1:9/binance", venue="binance")


OKX_KEYS = ("OKX_API_KEY", "OKX_API_SECRET", "OKX_PASSPHRASE")


@pytest.mark.parametrize(
    ("word", "rest", "live_ws", "demo_ws"),
    [
        ("www", "https://www.okx.com", "wss://ws.okx.com:8443", "wss://wspap.okx.com:8443"),
        ("EEA", "https://eea.okx.com", "wss://wseea.okx.com:8443", "wss://wseeapap.okx.com:8443"),
        ("my.okx.com", "https://my.okx.com", "wss://wseea.okx.com:8443", "wss://wseeapap.okx.com:8443"),
    ],
)
def test_okx_host_picks_the_regional_domain_for_rest_streams_and_the_host_guard(
    monkeypatch: pytest.MonkeyPatch, word: str, rest: str, live_ws: str, demo_ws: str
) -> None:
    from hedgectl.venues.okx.venue import OkxVenue

    for name in OKX_KEYS:
        monkeypatch.setenv(name, "placeholder-credential-0123456789")
    monkeypatch.setenv("OKX_HOST", word)
    other = "https://www.okx.com" if word != "www" else "https://eea.okx.com"
    for mode, ws in (("live", live_ws), ("testnet", demo_ws)):
        monkeypatch.setenv("HEDGECTL_MODE", mode)
        config = Registry(load_settings(), live_confirmed=True).venue_config("okx")
        assert (config.base_url, config.ws_url) == (rest, ws)
        seam = OkxVenue(config)._client._seam
        request = seam.build("GET", "/api/v5/public/time")  # the regional host passes the guard
        assert str(request.url).startswith(rest + "/api/v5/")
        with pytest.raises(ConfigError):
            seam.guard(other + "/api/v5/public/time")


@pytest.mark.parametrize("bad", ["us", "okx.com.evil.example", "app", "https://eea.okx.com"])
def test_okx_host_is_restricted_to_okx_own_domains(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("OKX_HOST", bad)
    with pytest.raises(ConfigError, match="OKX_HOST"):
        load_settings()


def _imports_under(package: str, forbidden: str) -> list[str]:
    """Every import statement (top level or inside a function) in `package` that names `forbidden` or below."""
    import ast
    import importlib
    from pathlib import Path

    root = Path(importlib.import_module(package).__file__ or "").parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}: {n}" for n in names if f"{n}.".startswith(f"{forbidden}.")]
    return offenders


def test_no_module_of_the_venue_layer_imports_the_simulator_even_lazily() -> None:
    assert _imports_under("hedgectl.venues", "hedgectl.sim") == []


def test_the_simulator_never_imports_venue_code() -> None:
    assert _imports_under("hedgectl.sim", "hedgectl.venues") == []
