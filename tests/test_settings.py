from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError
from hedgectl.settings import load_settings

SENTINEL = "s3cr3t-SENTINEL-value-123"


def test_environment_wins_over_env_file_which_wins_over_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("HEDGECTL_MAX_NOTIONAL_USDT=500\nHEDGECTL_SIM_SEED=7\n")
    monkeypatch.setenv("HEDGECTL_MAX_NOTIONAL_USDT", "250")
    settings = load_settings()
    assert str(settings.max_notional_usdt) == "250"  # environment
    assert settings.sim_seed == 7  # .env
    assert settings.recv_window_ms == 5000  # default


def test_env_file_option_reads_another_file(tmp_path: Path) -> None:
    other = tmp_path / "other.env"
    other.write_text("HEDGECTL_MODE=testnet\n")
    assert load_settings(other).effective_mode is Mode.TESTNET


def test_missing_env_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="env file not found"):
        load_settings(tmp_path / "nope.env")


def test_mode_defaults_to_paper() -> None:
    assert load_settings().effective_mode is Mode.PAPER


def test_seed_venue_env_testnet_is_adopted_when_no_mode_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_ENV", "testnet")
    monkeypatch.setenv("OKX_ENV", "testnet")
    assert load_settings().effective_mode is Mode.TESTNET


def test_venue_env_disagreeing_with_mode_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "live")
    monkeypatch.setenv("BINANCE_ENV", "testnet")
    with pytest.raises(ConfigError, match="BINANCE_ENV=testnet disagrees with HEDGECTL_MODE=live"):
        load_settings()


def test_live_is_never_inferred_from_venue_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_ENV", "mainnet")
    with pytest.raises(ConfigError, match="HEDGECTL_MODE=live explicitly"):
        load_settings()


def test_invalid_mode_is_a_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "yolo")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "\n" not in str(info.value)
    assert "HEDGECTL_MODE" in str(info.value)


def test_secrets_never_appear_in_repr_or_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BINANCE_API_SECRET", SENTINEL)
    monkeypatch.setenv("HEDGECTL_MAX_NOTIONAL_USDT", "not-a-number")
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError) as info:
        load_settings()
    assert SENTINEL not in str(info.value)
    monkeypatch.setenv("HEDGECTL_MAX_NOTIONAL_USDT", "100")
    settings = load_settings()
    assert SENTINEL not in repr(settings)
    assert SENTINEL not in str(settings.model_dump())
    assert SENTINEL not in repr(settings.credentials("binance"))
    assert settings.credentials("binance")["api_secret"].get_secret_value() == SENTINEL
    assert SENTINEL not in caplog.text


def test_credentials_sets_and_missing_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTER_API_KEY", "k")
    monkeypatch.setenv("ASTER_API_SECRET", "s")
    settings = load_settings()
    assert settings.has_credentials("aster")
    assert not settings.has_credentials("okx")
    assert settings.missing_credentials("okx") == "OKX_API_KEY OKX_API_SECRET OKX_PASSPHRASE"


def test_blank_credentials_count_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", "  ")
    monkeypatch.setenv("BINANCE_API_SECRET", "x")
    assert not load_settings().has_credentials("binance")
