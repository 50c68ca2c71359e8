"""Live mode's typed confirmation comes after the plan (every read done, venues and streams warm) and right
before the open; a slow answer re-plans. The cycle is driven with a fake question in paper mode; the CLI's
live path runs with a fake prompt behind a wire tap that refuses every production host (no real venue is
ever reached)."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from reliability.secrets_fixtures import ADDRESSES, SENTINELS
from reliability.transports import Tap

from hedgectl.cli import output, render
from hedgectl.cli.app import main
from hedgectl.cli.common import run_command
from hedgectl.cli.session import LIVE_PROMPT, Session
from hedgectl.engine.bootstrap import cycle as hedge
from hedgectl.engine.bootstrap.plan import HedgePlan
from tests.e2e.bootstrap_rig import VENUES, cycle_rig, live_streams, ops, until
from tests.e2e.conftest import Sim

pytestmark = pytest.mark.e2e

PLAN_READS = {"fetch_order_book", "fetch_balance", "fetch_time"}  # plus the markets, however each venue names it


async def test_the_question_comes_after_every_read_and_with_warm_streams_before_any_order(
    sim: Sim, isolated_env: Path
) -> None:
    seen: dict[str, Any] = {}

    async def confirm(plan: HedgePlan) -> bool:
        rows = sim.requests()
        seen.update(asked_at=len(rows), rows=rows, streams=live_streams(sim), qty=plan.qty)
        return True

    async with cycle_rig(sim, isolated_env) as rig:
        result = await rig.run(confirm=confirm)
    assert result.ok, result.error
    rows = seen["rows"]
    for venue in VENUES:
        venue_ops = {r["op"] for r in ops(rows, venue)}
        assert venue_ops >= PLAN_READS, venue_ops
        assert venue_ops & {"load_markets", "fetch_markets"}
        assert seen["streams"][venue] >= 1  # its order stream was connected before the question
    assert ops(rows, op="create_order") == []
    creates = [i for i, r in enumerate(sim.requests()) if r["op"] == "create_order"]
    assert len(creates) == 4
    assert creates[0] >= seen["asked_at"]
    assert result.opened[0].filled_qty == seen["qty"]


async def test_a_declined_question_sends_nothing_and_closes_the_streams(sim: Sim, isolated_env: Path) -> None:
    async def confirm(plan: HedgePlan) -> bool:
        return False

    async with cycle_rig(sim, isolated_env) as rig:
        result = await rig.run(confirm=confirm)
        await until(lambda: not any(live_streams(sim).values()))  # closed before the venues are
    assert result.declined
    assert result.exit_code == 2
    assert ops(sim.requests(), op="create_order") == []
    assert result.opened == []


async def test_ctrl_c_while_the_question_is_open_sends_nothing(sim: Sim, isolated_env: Path) -> None:
    async with cycle_rig(sim, isolated_env) as rig:

        async def confirm(plan: HedgePlan) -> bool:
            asyncio.get_running_loop().call_soon(rig.interrupts.stop.set)
            await asyncio.Event().wait()  # the user never answers
            return True

        result = await rig.run(confirm=confirm)
    assert result.interrupted
    assert result.exit_code == 130
    assert ops(sim.requests(), op="create_order") == []


async def test_a_slow_answer_replans_and_asks_again_when_the_quantity_changed(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hedge, "REPLAN_AFTER_S", 0.0)  # every answer counts as slow
    asked: list[Decimal] = []

    async def confirm(plan: HedgePlan) -> bool:
        asked.append(plan.qty)
        if len(asked) == 1:  # while the user reads, the price falls by a third: 300 USDT buys more BTC
            sim.post("/_sim/price", {"symbol": "BTC", "price": str(plan.reference_price * 2 / 3)})
        return True

    async with cycle_rig(sim, isolated_env) as rig:
        result = await rig.run(confirm=confirm)
    assert result.ok, result.error
    assert len(asked) == 2
    assert asked[1] > asked[0]
    assert [leg.filled_qty for leg in result.opened] == [asked[1], asked[1]]
    assert [p.qty for p in rig.reporter.plans] == asked  # the new quantity was shown before asking again
    assert any("quantity changed" in w for w in rig.reporter.warnings)


async def test_a_slow_answer_with_the_same_quantity_opens_on_a_fresh_book_without_asking_again(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hedge, "REPLAN_AFTER_S", 0.0)
    marks: list[int] = []

    async def confirm(plan: HedgePlan) -> bool:
        marks.append(len(sim.requests()))
        return True

    async with cycle_rig(sim, isolated_env) as rig:
        result = await rig.run(confirm=confirm)
    assert result.ok, result.error
    assert len(marks) == 1
    first_create = next(i for i, r in enumerate(sim.requests()) if r["op"] == "create_order")
    between = sim.requests()[marks[0] : first_create]
    for venue in VENUES:
        assert ops(between, venue, "fetch_order_book")  # the book was read again after the answer


# -- the CLI's live path, with a fake prompt ---------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def live_env(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Live mode with sentinel keys, a terminal on stdin and a fake prompt (its questions are returned)."""
    for name, value in {**SENTINELS, **ADDRESSES}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", _Terminal())
    questions: list[str] = []

    def prompt(text: str, *args: Any, **kwargs: Any) -> str:
        questions.append(text)
        return "live"

    monkeypatch.setattr(typer, "prompt", prompt)
    render.use_consoles(None, None)
    yield questions
    output.STATE.json_mode = output.STATE.emitted = False


@pytest.fixture
def tap(monkeypatch: pytest.MonkeyPatch) -> Tap:
    wire = Tap()
    wire.install(monkeypatch)

    # WebSockets go around the tap: no name lookups or connections at all, so nothing can leave.
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return wire


def test_live_bootstrap_plans_before_asking_and_asks_nothing_when_the_plan_cannot_be_made(
    live_env: list[str], tap: Tap, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--mode", "live", "bootstrap", "--live", "--json"])
    out, err = capsys.readouterr()
    assert info.value.code == 1, err
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["legs"]["binance"]["open"] is None
    assert live_env == []  # the production reads were refused: no plan, so no question
    assert tap.requests, "no read was attempted before the question"
    posts = [r.url for r in tap.requests if r.method != "GET"]
    assert all(url.endswith("/listenKey") for url in posts), posts  # reads and a stream key: no order


def test_live_without_a_terminal_still_needs_yes_before_any_connection(
    live_env: list[str], tap: Tap, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    with pytest.raises(SystemExit) as info:
        main(["--mode", "live", "bootstrap", "--live"])
    assert info.value.code == 2
    assert "--yes" in capsys.readouterr().err
    assert tap.requests == []
    assert live_env == []


def _command(confirm_in_body: bool, events: list[str]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def trade(ctx: typer.Context) -> None:
        async def body(session: Session) -> int:
            events.append("body")
            if session.confirm_live is not None:
                answer = await session.confirm_live("About to buy 0.003 BTC.")
                events.append(f"answer {answer}")
            return 0

        run_command(ctx, "trade", {}, body, json_mode=False, live=True, confirm_in_body=confirm_in_body)

    return app


@pytest.mark.parametrize(("confirm_in_body", "answer"), [(False, "live"), (True, "live"), (True, "no")])
def test_the_typed_confirmation_is_asked_before_the_session_or_by_the_body(
    live_env: list[str], monkeypatch: pytest.MonkeyPatch, confirm_in_body: bool, answer: str
) -> None:
    monkeypatch.setenv("HEDGECTL_MODE", "live")
    events: list[str] = []

    def prompt(text: str, *args: Any, **kwargs: Any) -> str:
        events.append(f"asked {text}")
        return answer

    monkeypatch.setattr(typer, "prompt", prompt)
    code = _command(confirm_in_body, events)(args=[], standalone_mode=False)
    assert code == 0
    if confirm_in_body:
        assert events == ["body", f"asked About to buy 0.003 BTC.\n{LIVE_PROMPT}", f"answer {answer == 'live'}"]
    else:
        assert events == [f"asked {LIVE_PROMPT}", "body"]
