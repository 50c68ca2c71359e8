"""Errors through the real CLI: the cause of a failed connection, -v's detail, short credentials refused."""

from __future__ import annotations

import json
import socket

import pytest

from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


@pytest.fixture
def dead_simulator(monkeypatch: pytest.MonkeyPatch) -> str:
    """HEDGECTL_SIM_URL at a loopback port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    monkeypatch.setenv("HEDGECTL_SIM_URL", url)
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "2")
    return url


def test_connect_says_the_connection_was_refused_and_v_after_the_subcommand_adds_the_chain(
    dead_simulator: str,
) -> None:
    proc = hedgectl("connect", "--venue", "binance", "--venue", "backpack", "--json", "-v")
    assert proc.returncode == 1, proc.stderr
    venues = {v["venue"]: v for v in json.loads(proc.stdout)["venues"]}
    for venue in ("binance", "backpack"):
        assert "connection refused" in venues[venue]["error"], venues[venue]
    assert "ConnectionRefusedError" in proc.stderr  # the chain, shown only with -v
    assert "Traceback" not in proc.stderr


def test_without_v_the_chain_is_not_shown(dead_simulator: str) -> None:
    proc = hedgectl("connect", "--venue", "backpack", "--json")
    assert proc.returncode == 1
    assert "ConnectionRefusedError" not in proc.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_v_is_accepted_before_and_after_the_subcommand(where: str) -> None:
    argv = ["-v", "sim", "creds", "--json"] if where == "before" else ["sim", "creds", "--json", "-v"]
    proc = hedgectl(*argv)
    assert proc.returncode == 0, proc.stderr
    assert "binance" in json.loads(proc.stdout)


def test_a_credential_too_short_to_be_real_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKX_API_KEY", "x")
    monkeypatch.setenv("OKX_API_SECRET", "s" * 32)
    monkeypatch.setenv("OKX_PASSPHRASE", "passphrase")
    proc = hedgectl("--mode", "testnet", "connect", "--json")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: OKX_API_KEY is too short to be a real credential")
    assert json.loads(proc.stdout)["exit_code"] == 2


def test_an_http_error_names_its_status_and_the_venue_code_on_every_venue(sim: Sim) -> None:
    for venue in ("binance", "okx", "backpack", "aster"):
        sim.fault(venue=venue, op="any", kind="http_500", count=100)
    proc = hedgectl("connect", "--json")
    assert proc.returncode == 1, proc.stderr
    for row in json.loads(proc.stdout)["venues"]:
        assert "HTTP 500: " in row["error"], row
        assert "(code " in row["error"], row
