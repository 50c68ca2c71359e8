"""The root group builds a command only when it is looked up: a typo or another command never imports its module."""

from __future__ import annotations

import importlib
import sys
import types

import pytest
import typer
from typer.testing import CliRunner

from hedgectl.cli import lazy_group
from hedgectl.cli.lazy_group import LazyCommand, LazyTyperGroup


class _Group(LazyTyperGroup):
    LAZY = (
        LazyCommand("probe", "lazy_probe_cmd", "probe"),
        LazyCommand("absent", "lazy_absent_cmd", "absent"),  # no such module: building it would fail the test
    )


@pytest.fixture
def imported(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A command module `lazy_probe_cmd` (its HELP and one command), and the modules the group imports."""
    calls: list[str] = []
    module = types.ModuleType("lazy_probe_cmd")
    module.HELP = "Probe the group."  # type: ignore[attr-defined]

    def probe(flag: bool = typer.Option(False, "--flag")) -> None:
        typer.echo(f"probe ran, flag={flag}")

    module.probe = probe  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lazy_probe_cmd", module)
    real = importlib.import_module
    monkeypatch.setattr(lazy_group, "import_module", lambda name: calls.append(name) or real(name))
    return calls


def _app() -> typer.Typer:
    app = typer.Typer(cls=_Group, add_completion=False)

    @app.callback()
    def root() -> None:
        """The root."""

    return app


def test_a_command_runs_from_its_module_and_the_other_commands_are_never_imported(imported: list[str]) -> None:
    result = CliRunner().invoke(_app(), ["probe", "--flag"])
    assert result.exit_code == 0, result.output
    assert "probe ran, flag=True" in result.output
    assert imported == ["lazy_probe_cmd"]


def test_a_typo_is_suggested_from_the_names_without_importing_any_module(imported: list[str]) -> None:
    result = CliRunner().invoke(_app(), ["prob"])
    assert result.exit_code == 2
    assert "No such command 'prob'" in result.output
    assert "Did you mean 'probe'" in result.output
    assert imported == []


def test_the_listing_names_every_command_in_order_with_its_help(imported: list[str]) -> None:
    group = typer.main.get_command(_app())
    assert isinstance(group, LazyTyperGroup)
    with typer.Context(group) as ctx:
        assert group.list_commands(ctx) == ["probe", "absent"]
        assert imported == []
        command = group.get_command(ctx, "probe")
        assert command is not None
        assert command.help == "Probe the group."
        assert group.get_command(ctx, "nope") is None
        with pytest.raises(ModuleNotFoundError):
            group.get_command(ctx, "absent")
    assert imported == ["lazy_probe_cmd", "lazy_absent_cmd"]
