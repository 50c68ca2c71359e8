"""An unusable HEDGECTL_HOME: one line naming the directory, exit 2; `prices` and `connect` run anyway."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hedgectl.cli import output, render
from hedgectl.cli.app import main
from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


@pytest.fixture
def blocked_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HEDGECTL_HOME that cannot be created: its parent is a regular file (root ignores permission bits)."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    home = blocker / "home"
    monkeypatch.setenv("HEDGECTL_HOME", str(home))
    return home


@pytest.mark.parametrize(
    "argv",
    [
        ["bootstrap", "--yes", "--hold", "0"],
        ["flatten", "--all", "--dry-run"],
        ["history"],
        ["sim", "reset"],
    ],
    ids=" ".join,
)
def test_commands_that_need_the_home_say_which_directory_and_exit_2(blocked_home: Path, argv: list[str]) -> None:
    proc = hedgectl(*argv)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert str(blocked_home) in lines[0]
    assert "writable" in lines[0]
    assert "database file" not in lines[0]


@pytest.mark.parametrize("command", ["prices", "connect"])
def test_prices_and_connect_run_without_a_usable_home(sim: Sim, blocked_home: Path, command: str) -> None:
    proc = hedgectl(command, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
    assert str(blocked_home) in proc.stderr  # said once, as a warning
    assert "Traceback" not in proc.stderr


def test_a_missing_home_is_created(sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "a" / "b" / "home"
    monkeypatch.setenv("HEDGECTL_HOME", str(home))
    proc = hedgectl("prices", "--json")
    assert proc.returncode == 0, proc.stderr
    assert (home / "journal.sqlite").exists()


def test_a_home_that_is_not_writable_is_named(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolated_env.mkdir(parents=True)
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(str(path)) == isolated_env and mode & os.W_OK:
            return False  # what a read-only directory answers to anyone but root
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    render.use_consoles(None, None)
    with pytest.raises(SystemExit) as info:
        main(["history", "--json"])
    out, err = capsys.readouterr()
    output.STATE.json_mode = output.STATE.emitted = False
    assert info.value.code == 2
    assert f"HEDGECTL_HOME {isolated_env} is unusable (not writable)" in err
    assert json.loads(out)["exit_code"] == 2
