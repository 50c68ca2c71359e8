from __future__ import annotations

import pytest

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError, UsageError
from hedgectl.settings import load_settings
from hedgectl.venues.host_guard import ensure_allowed, is_loopback
from hedgectl.venues.registry import Registry, parse_venue


def test_paper_mode_points_every_venue_at_the_loopback_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_URL", "http://127.0.0.1:8765")
    registry = Registry(load_settings())
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
        Registry(load_settings()).venue_config("binance")


def test_testnet_uses_only_test_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "testnet")
    for name in ("BINANCE_API_KEY", "BINANCE_API_SECRET", "OKX_API_KEY", "OKX_API_SECRET", "OKX_PASSPHRASE",
                 "ASTER_USER", "ASTER_SIGNER", "ASTER_PRIVATE_KEY", "BACKPACK_API_KEY", "BACKPACK_API_SECRET"):
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
