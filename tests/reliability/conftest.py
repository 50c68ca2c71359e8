"""Reliability fixtures: a private simulator and home per test, the CLI as a real process (see rig.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reliability.rig import Rig, rig


@pytest.fixture
def sim_rig(tmp_path: Path) -> Iterator[Rig]:
    with rig(tmp_path / "rig") as r:
        yield r


@pytest.fixture
def one_click_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that call `hedgectl.cli.app.main` in-process many times: Typer turns the app into click commands
    on every call (about 90% of an invalid invocation's time: every command's signature and type hints, read
    again), where a CLI process does it once. With this, the invocations of a test share one tree; each still
    parses its argv afresh through `main` and the very same commands."""
    import typer.main

    built: dict[int, tuple[Any, Any]] = {}
    real = typer.main.get_command

    def get_command(typer_instance: Any) -> Any:
        key = id(typer_instance)
        if key not in built:
            built[key] = (typer_instance, real(typer_instance))  # the instance is kept: its id is never reused
        return built[key][1]

    monkeypatch.setattr(typer.main, "get_command", get_command)
