"""Secret hygiene: with sentinel credentials everywhere, no command prints, logs or stores one.

Paper mode: every command as a real process, sentinels in the environment, in `.env` and in the bp-aster
YAML (paper mode still reads them all); stdout, stderr and every file the run leaves (the journal and its
WAL, caches, the paper account) are scanned. Testnet mode, in-process behind the wire tap: the sentinels
are really used to sign requests, and the failures that come back must not echo them either. And a `.env`
readable by other users is warned about.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hedgectl.cli import output, render
from hedgectl.cli.app import main
from reliability.rig import Rig
from reliability.secrets_fixtures import ADDRESSES, SENTINELS, leaks, leaks_in_files, seed_yaml
from reliability.transports import Tap

pytestmark = pytest.mark.e2e

# Half of the sentinels in the environment, half in .env: both sources are read.
IN_ENV = {k: v for i, (k, v) in enumerate(SENTINELS.items()) if i % 2 == 0}
IN_DOTENV = {k: v for k, v in SENTINELS.items() if k not in IN_ENV}


@contextmanager
def _filling(r: Rig, venue: str) -> Iterator[None]:
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            if r.state()[venue]["open_orders"]:
                r.post("/_sim/fill", {"venue": venue, "all": True})
            done.wait(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=10)


def test_no_command_prints_logs_or_stores_a_secret_in_paper_mode(sim_rig: Rig) -> None:
    r = sim_rig
    r.env.update(IN_ENV)
    r.env.update(ADDRESSES)
    dotenv = r.workdir / ".env"
    dotenv.write_text("".join(f"{k}={v}\n" for k, v in {**IN_DOTENV, **ADDRESSES}.items()), encoding="utf-8")
    dotenv.chmod(0o600)
    seed = r.workdir / "seed.yaml"
    seed.write_text(seed_yaml(), encoding="utf-8")
    bootstrap = ["bootstrap", "--notional", "300", "--hold", "0", "--long", "backpack", "--short", "aster",
                 "--max-slippage-bps", "50"]
    runs: list[tuple[list[str], int, str, str]] = []

    def run(*args: str) -> str:
        proc = r.run(*args)
        runs.append((list(args), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    run("-v", "connect")
    run("prices", "--json")
    run("-v", *bootstrap, "--json")
    run(*bootstrap)  # the human tables
    run_id = json.loads(run("history", "--json"))["runs"][0]["id"]
    run("-v", "history", "show", run_id)
    run("-v", "flatten", "--all", "--dry-run")
    with _filling(r, "backpack"):
        run("-v", "bp-aster", "loop", "--config", str(seed), "--cycles", "1", "--yes", "--json")
    run("sim", "creds", "--json")  # the simulator's own keys, not the user's
    run("--mode", "live", *bootstrap, "--yes")  # refused: an error path
    run("--mode", "testnet", *bootstrap, "--yes")  # refused before any network: Backpack has no testnet
    run("--env-file", str(r.workdir / "missing.env"), "connect")  # another error path

    assert [code for _, code, _, _ in runs[:9]] == [0] * 9, [(a, c, e[-300:]) for a, c, _, e in runs if c]
    assert [code for _, code, _, _ in runs[9:]] == [2, 2, 2]
    for args, _, out, err in runs:
        assert leaks(out) == [], args
        assert leaks(err) == [], args
    assert leaks_in_files(r.home, r.workdir, skip=(dotenv, seed)) == {}
    assert (r.home / "journal.sqlite").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "connect", "--json"],
        ["-v", "prices"],
        ["-v", "bootstrap", "--yes", "--json"],
        ["-v", "bootstrap", "--long", "aster", "--short", "okx", "--yes"],
        ["-v", "flatten", "--all", "--yes", "--json", "--rounds", "1"],
    ],
    ids=lambda a: " ".join(a[1:3]),
)
def test_testnet_failures_do_not_echo_the_keys_that_signed_them(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_env: Path,
    sim_rig: Rig,
) -> None:
    tap = Tap(stand_in=sim_rig.url)  # the simulator plays the test hosts: it refuses the sentinel keys
    tap.install(monkeypatch)
    for name, value in {**SENTINELS, **ADDRESSES}.items():
        monkeypatch.setenv(name, value)
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main(["--mode", "testnet", *argv])
    out, err = capsys.readouterr()
    output.STATE.json_mode = output.STATE.emitted = False
    assert info.value.code in (0, 1, 3), err  # public reads work; the keys are refused by the stand-in venues
    assert "Traceback" not in err
    assert leaks(out) == []
    assert leaks(err) == []
    assert leaks_in_files(isolated_env) == {}
    # Not vacuous: the sentinel keys really went out with signed requests (to test hosts only).
    if argv[1] != "prices":  # public data only
        assert any(leaks(json.dumps(r.headers)) for r in tap.requests), "no request carried a key"
    assert tap.violations == []


def test_reprs_and_settings_dumps_mask_every_secret() -> None:
    from hedgectl.settings import Settings
    from hedgectl.venues.registry import Registry

    settings = Settings(_env_file=None, HEDGECTL_MODE="testnet", **SENTINELS, **ADDRESSES)  # type: ignore[arg-type]
    assert leaks(repr(settings)) == []
    assert leaks(str(settings.model_dump())) == []
    registry = Registry(settings)
    assert leaks(repr(registry.venue_config("binance"))) == []
    assert leaks(repr(registry.venue_config("aster").credentials)) == []


# -- .env permissions ------------------------------------------------------------------------------------


def _history(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main([*extra, "history"])
    return int(info.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_dotenv_readable_by_others_is_warned_about(mode: int, capsys: pytest.CaptureFixture[str]) -> None:
    Path(".env").write_text(f"BINANCE_API_SECRET={SENTINELS['BINANCE_API_SECRET']}\n", encoding="utf-8")
    os.chmod(".env", mode)  # the mode is the point
    code, err = _history(capsys)
    assert code == 0
    assert "readable by other users" in err
    assert "chmod 600" in err
    assert leaks(err) == []


def test_a_private_dotenv_is_not_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".env").write_text(f"BINANCE_API_SECRET={SENTINELS['BINANCE_API_SECRET']}\n", encoding="utf-8")
    Path(".env").chmod(0o600)
    code, err = _history(capsys)
    assert code == 0
    assert "readable" not in err


def test_an_env_file_given_with_env_file_is_checked_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    env_file = tmp_path / "keys.env"
    env_file.write_text(f"OKX_PASSPHRASE={SENTINELS['OKX_PASSPHRASE']}\n", encoding="utf-8")
    env_file.chmod(0o644)
    code, err = _history(capsys, "--env-file", str(env_file))
    assert code == 0
    assert "readable by other users" in err
    assert str(env_file) in err
