"""Embedded mode (paper), persistence between runs, and the thin `hedgectl sim` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hedgectl.cli.sim_cmd import sim_app
from hedgectl.sim import credentials
from hedgectl.sim.embedded import EmbeddedSimulator

from .helpers import binance_query

HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}


def buy(url: str, qty: str) -> None:
    body = binance_query(
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": qty}, credentials.BINANCE_API_SECRET
    )
    r = httpx.post(f"{url}/binance/fapi/v1/order", content=body, headers=HEADERS)
    assert r.status_code == 200, r.text


def positions(url: str) -> list[dict[str, str]]:
    state: list[dict[str, str]] = httpx.get(f"{url}/_sim/state").json()["venues"]["binance"]["positions"]
    return state


def test_embedded_account_persists_between_runs(tmp_path: Path) -> None:
    state = tmp_path / "paper" / "sim-state.json"
    with EmbeddedSimulator(state, seed=1) as sim:
        assert sim.url is not None
        assert sim.url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{sim.url}/_sim/health").json() == {"ok": True}
        buy(sim.url, "0.002")
    assert state.exists()
    second = EmbeddedSimulator(state, seed=1)
    url = second.start()
    try:
        assert [p["qty"] for p in positions(url)] == ["0.002"]
        buy(url, "0.003")
    finally:
        second.stop()
        second.stop()  # idempotent
    with EmbeddedSimulator(state) as third:
        assert third.url is not None
        assert [p["qty"] for p in positions(third.url)] == ["0.005"]


def test_embedded_without_state_path_keeps_nothing(tmp_path: Path) -> None:
    with EmbeddedSimulator(None) as sim:
        assert sim.url is not None
        buy(sim.url, "0.002")
    assert list(tmp_path.iterdir()) == []


def test_sim_creds_json_prints_the_accepted_credentials() -> None:
    result = CliRunner().invoke(sim_app, ["creds", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == credentials.all_credentials()


def test_sim_reset_removes_the_persisted_account(tmp_path: Path) -> None:
    state = tmp_path / "custom.json"
    state.write_text("{}")
    result = CliRunner().invoke(sim_app, ["reset", "--state", str(state)])
    assert result.exit_code == 0
    assert not state.exists()
    result = CliRunner().invoke(sim_app, ["reset", "--state", str(state)])
    assert result.exit_code == 0
    assert "already fresh" in result.stdout


def test_sim_reset_targets_paper_modes_state_under_hedgectl_home(isolated_env: Path) -> None:
    from hedgectl.cli.app import app

    paper = isolated_env / "paper" / "sim-state.json"
    paper.parent.mkdir(parents=True)
    paper.write_text("{}")
    result = CliRunner().invoke(app, ["sim", "reset"])
    assert result.exit_code == 0, result.output
    assert not paper.exists()


def test_sim_reset_resets_the_running_simulator_named_by_sim_url(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hedgectl.cli.app import app

    with EmbeddedSimulator(None) as sim:
        assert sim.url is not None
        buy(sim.url, "0.002")
        monkeypatch.setenv("HEDGECTL_SIM_URL", sim.url)
        result = CliRunner().invoke(app, ["sim", "reset", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"ok": True, "target": "simulator", "where": sim.url}
        assert positions(sim.url) == []


def test_sim_reset_of_an_unreachable_simulator_fails_in_one_line(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedSimulator(None) as gone:
        url = gone.url
    assert url is not None
    env = {**os.environ, "HEDGECTL_SIM_URL": url}
    proc = subprocess.run(
        [sys.executable, "-m", "hedgectl", "sim", "reset"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: cannot reach the simulator at")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_sim_reset_json_on_a_saved_account(tmp_path: Path) -> None:
    state = tmp_path / "custom.json"
    state.write_text("{}")
    result = CliRunner().invoke(sim_app, ["reset", "--state", str(state), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"ok": True, "target": "file", "where": str(state), "removed": True}


def test_cli_module_does_not_import_the_simulator() -> None:
    code = (
        "import sys, hedgectl.cli.sim_cmd;"
        "print([m for m in ('aiohttp', 'eth_account', 'hedgectl.sim.server') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.e2e
def test_sim_serve_runs_until_sigterm_and_saves(tmp_path: Path) -> None:
    state = tmp_path / "served.json"
    with subprocess.Popen(
        [sys.executable, "-m", "hedgectl", "sim", "serve", "--port", "0", "--seed", "4", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            url = line.split(" on ")[1].split()[0]
            assert httpx.get(f"{url}/_sim/health").json() == {"ok": True}
            buy(url, "0.002")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert json.loads(state.read_text())["accounts"]["binance"]["positions"][0]["qty"] == "0.002"


@pytest.mark.e2e
def test_sim_serve_json_prints_one_line_with_its_url_when_ready() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "hedgectl", "sim", "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            assert ready["ok"] is True
            assert httpx.get(f"{ready['url']}/_sim/health").json() == {"ok": True}
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_sim_serve_reports_a_busy_port_in_one_line(tmp_path: Path) -> None:
    with EmbeddedSimulator(None) as sim:
        assert sim.url is not None
        port = sim.url.rsplit(":", 1)[1]
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "hedgectl", "sim", "serve", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: cannot listen on 127.0.0.1:")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 30


def test_a_corrupt_paper_account_is_a_config_error_naming_the_fix(tmp_path: Path) -> None:
    from hedgectl.errors import ConfigError

    state = tmp_path / "broken.json"
    state.write_text('{"version": 1, "accounts": {"binance": {"balance": "x"}}}')
    with pytest.raises(ConfigError, match="hedgectl sim reset"):
        EmbeddedSimulator(state).start()
