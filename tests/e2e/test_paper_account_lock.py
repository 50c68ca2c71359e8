"""Two commands at once on one paper account (no HEDGECTL_SIM_URL): the second waits a bounded time, saying
so, then fails in one line; nothing either did is lost from the saved account."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import eventually

pytestmark = pytest.mark.e2e

HOLDING = ["bootstrap", "--notional", "300", "--hold", "120", "--yes"]


LOCK_WAIT_S = "1"  # the second command's wait, short: its length is not what these tests check


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HEDGECTL_SIM_URL"}  # each command embeds its simulator
    return {**env, "HEDGECTL_HOME": str(home), "HEDGECTL_PAPER_LOCK_WAIT_S": LOCK_WAIT_S}


def _acked(home: Path) -> list[tuple[str, str]]:
    if not (home / "journal.sqlite").exists():
        return []
    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return list(conn.execute("SELECT venue, client_order_id FROM orders WHERE state != 'intent'"))
    except sqlite3.OperationalError:  # the schema is still being created
        return []
    finally:
        conn.close()


def _holding(cli: list[str], home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """A bootstrap holding both legs on the paper account in `home` (it holds the account's lock meanwhile)."""
    first = subprocess.Popen([*cli, *HOLDING], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        eventually(lambda: len(_acked(home)) >= 2 or first.poll() is not None, timeout=60)
    except BaseException:
        first.kill()
        first.communicate()
        raise
    if first.poll() is not None:
        _, err = first.communicate()
        raise AssertionError(f"the holding bootstrap exited {first.returncode}: {err}")
    return first


def test_a_second_command_on_a_busy_paper_account_waits_then_fails_and_nothing_is_lost(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home)
    cli = [sys.executable, "-m", "hedgectl"]
    first = _holding(cli, home, env)
    try:
        second = subprocess.run(
            [*cli, "bootstrap", "--notional", "300", "--hold", "0", "--yes"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2, second.stderr
        assert "in use by another hedgectl command" in second.stderr
        assert f"waiting up to {LOCK_WAIT_S} s" in second.stderr  # said while it waited, with the setting's length
        assert second.stderr.strip().splitlines()[-1].startswith("error: the paper account")
        assert "Traceback" not in second.stderr
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
        assert first.returncode == 130, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    saved = json.loads((home / "paper" / "sim-state.json").read_text())["accounts"]
    kept = {(venue, o.get("client_order_id")) for venue, account in saved.items() for o in account["orders"]}
    journaled = set(_acked(home))
    assert len(journaled) == 4  # the first command's open and close legs; the second sent nothing
    assert journaled <= kept, sorted(journaled - kept)


def test_read_only_commands_on_a_busy_paper_account_read_it_live_from_the_holders_simulator(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home)
    cli = [sys.executable, "-m", "hedgectl"]
    first = _holding(cli, home, env)
    try:
        shown = subprocess.run(
            [*cli, "positions", "--json"], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert shown.returncode == 0, shown.stderr
        assert "waiting up to" not in shown.stderr
        held = {v: [p["side"] for p in d["positions"]] for v, d in json.loads(shown.stdout)["venues"].items()}
        assert held["binance"] == ["long"], held  # the holding bootstrap's legs, as they are now
        assert held["okx"] == ["short"], held
        for argv in (["flatten", "--all", "--dry-run", "--json"], ["prices", "--json"]):
            reader = subprocess.run([*cli, *argv], capture_output=True, text=True, env=env, timeout=60, check=False)
            assert reader.returncode == 0, (argv, reader.stderr)
            assert "waiting up to" not in reader.stderr
            json.loads(reader.stdout)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
        assert first.returncode == 130, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    # the readers wrote nothing back: the first command's save holds all four of its orders
    saved = json.loads((home / "paper" / "sim-state.json").read_text())["accounts"]
    kept = {(venue, o.get("client_order_id")) for venue, account in saved.items() for o in account["orders"]}
    assert set(_acked(home)) <= kept
