"""Ctrl+C that reaches a command outside its own signal handling (while it starts, before it installed its
handlers) is one line saying what the journal knows - typer alone turns it into a silent exit 130."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer

from hedgectl.cli.common import run_command
from hedgectl.cli.session import GlobalOptions, Session
from hedgectl.domain.types import OrderRequest, OrderType, Side
from hedgectl.errors import ExposureRemains, Interrupted


def _ctx() -> Any:
    return SimpleNamespace(find_root=lambda: SimpleNamespace(obj=GlobalOptions()))


def _run(body: Any) -> None:
    run_command(_ctx(), "bootstrap", {}, body, json_mode=False)


def _runs(home: Path) -> list[tuple[str, int, str]]:
    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return list(conn.execute("SELECT status, exit_code, error FROM runs"))
    finally:
        conn.close()


def _buy(cid: str) -> OrderRequest:
    return OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.MARKET, qty=Decimal("0.003"), client_order_id=cid)


def test_before_any_order_it_says_no_order_was_sent_and_exits_130(isolated_env: Path) -> None:
    async def body(session: Session) -> int:
        raise KeyboardInterrupt

    with pytest.raises(Interrupted, match=r"^interrupted: no order was sent$") as caught:
        _run(body)
    assert caught.value.exit_code == 130
    assert _runs(isolated_env) == [("interrupted", 130, "interrupted: no order was sent")]


def test_with_an_order_of_unknown_outcome_it_exits_3_naming_it(isolated_env: Path) -> None:
    async def body(session: Session) -> int:
        session.journal.record_intent(session.run_id, "binance", _buy("hc-open-1"), "open")
        raise KeyboardInterrupt

    with pytest.raises(ExposureRemains) as caught:
        _run(body)
    assert caught.value.exit_code == 3
    assert "binance buy 0.003 BTC" in str(caught.value)
    assert "hc-open-1" in str(caught.value)
    assert "flatten --all" in str(caught.value)
    ((status, code, error),) = _runs(isolated_env)
    assert (status, code, error) == ("aborted", 3, str(caught.value))


def test_after_the_session_ended_the_commands_own_exit_code_stands(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hedgectl.cli.common as common

    real = common.run_bounded

    def interrupted_at_the_end(main: Any) -> Any:
        real(main)  # the command ran to its end (exit 3: it said what is open), then Ctrl+C while winding down
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "run_bounded", interrupted_at_the_end)

    async def body(session: Session) -> int:
        return 3

    with pytest.raises(typer.Exit) as caught:
        _run(body)
    assert caught.value.exit_code == 3


def test_while_starting_before_a_session_it_says_nothing_was_sent(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hedgectl.cli.common as common

    def interrupted_at_once(main: Any) -> Any:
        main.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "run_bounded", interrupted_at_once)

    async def body(session: Session) -> int:
        raise AssertionError("never runs")

    with pytest.raises(Interrupted, match=r"^interrupted while starting: no order was sent$"):
        _run(body)


HELP = "A command interrupted by Ctrl+C as it checks its options."


def interrupted_command() -> None:
    raise KeyboardInterrupt


def test_a_ctrl_c_before_the_commands_run_is_one_line_not_typers_silent_130() -> None:
    from hedgectl.cli.lazy_group import LazyCommand, LazyTyperGroup

    class Group(LazyTyperGroup):
        LAZY = (LazyCommand("stop", __name__, "interrupted_command"),)

    app = typer.Typer(cls=Group)

    @app.callback()
    def root() -> None:
        return None

    with pytest.raises(Interrupted, match=r"^interrupted: no order was sent$"):
        app(args=["stop"], standalone_mode=False)
