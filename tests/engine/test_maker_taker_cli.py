"""The bp-aster command's reporting (human lines, stats table, JSON Lines) and its use of the YAML's keys."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from hedgectl.cli import bp_aster_cmd, loop_view, output, render
from hedgectl.cli.seed_file import parse_seed
from hedgectl.domain.types import OrderStatus, Side
from hedgectl.engine.maker_taker.config import LoopConfig, OnExit
from hedgectl.engine.maker_taker.events import LoopEvent
from hedgectl.engine.maker_taker.stats import LoopStats
from hedgectl.errors import ConfigError
from hedgectl.settings import Settings
from hedgectl.venues.registry import Registry

D = Decimal
AT = datetime(2025, 3, 1, 7, 55, tzinfo=UTC)
EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("leg", {"action": "start", "side": Side.SELL}),
    (
        "order",
        {
            "action": "placed",
            "venue": "backpack",
            "side": Side.SELL,
            "qty": D(10),
            "price": D("1.2024"),
            "order_id": "7",
            "client_order_id": "hc1",
        },
    ),
    (
        "order",
        {
            "action": "expired",
            "venue": "backpack",
            "side": Side.SELL,
            "qty": D(10),
            "price": D("1.2024"),
            "order_id": "7",
            "reason": "post-only would have taken: re-pricing",
        },
    ),
    (
        "order",
        {
            "action": "rejected",
            "venue": "backpack",
            "side": Side.SELL,
            "qty": D(10),
            "price": D("1.2"),
            "error": "backpack: Invalid price",
        },
    ),
    (
        "fill",
        {
            "venue": "backpack",
            "order_id": "7",
            "side": Side.SELL,
            "delta": D(5),
            "order_filled": D(5),
            "leg_filled": D(5),
            "price": D("1.2024"),
        },
    ),
    (
        "hedge",
        {
            "venue": "aster",
            "side": Side.BUY,
            "qty": D(5),
            "filled": D(5),
            "avg_price": D("1.20012"),
            "order_id": "9",
            "status": OrderStatus.FILLED,
            "reaction_ms": 1.234,
            "unhedged": D(0),
        },
    ),
    ("hedge_rejected", {"venue": "aster", "side": Side.BUY, "qty": D(5), "error": "aster: Margin is insufficient"}),
    (
        "order",
        {
            "action": "cancelled",
            "venue": "backpack",
            "side": Side.SELL,
            "qty": D(10),
            "price": D("1.2024"),
            "order_id": "7",
            "filled": D(5),
            "status": OrderStatus.CANCELED,
        },
    ),
    ("correction", {"maker_position": D(-10), "taker_position": D(12), "mismatch": D(2)}),
    (
        "residual_close",
        {
            "venue": "backpack",
            "side": Side.BUY,
            "qty": D(3),
            "filled": D(3),
            "reason": "below aster's minimum of 5",
            "order_id": "11",
        },
    ),
    (
        "pause",
        {
            "reason": "funding",
            "venue": "aster",
            "funding_at": AT,
            "resume_at": AT,
            "seconds": 120.0,
            "funding_time_source": "venue",
        },
    ),
    ("resume", {"reason": "funding", "venue": "aster"}),
    (
        "leg",
        {
            "action": "end",
            "side": Side.SELL,
            "complete": True,
            "maker_filled": D(10),
            "hedged": D(10),
            "closed_on_maker": D(0),
            "fill_s": 3.2,
            "maker_position": D(-10),
            "taker_position": D(10),
        },
    ),
    ("cycle", {"cycles": 1, "maker_volume": D(24), "taker_volume": D(24), "net_pnl": D("-0.02")}),
    ("warning", {"message": "backpack: quote: connection reset; retrying in 1 s"}),
    ("exit", {"policy": OnExit.FLATTEN, "flat": True, "exposure": None}),
    ("funding", {"venue": "backpack", "payments": 2, "net": D("-0.0123"), "asset": "USDC"}),
]


@pytest.fixture
def consoles() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    render.use_consoles(
        Console(file=out, width=140, color_system=None), Console(file=err, width=140, color_system=None)
    )
    yield out, err
    render.use_consoles(None, None)


def _stats() -> Any:
    stats = LoopStats(maker_venue="backpack", taker_venue="aster", cycles=1, legs=2)
    stats.maker.add(Side.SELL, D(10), D("1.2024"), D("0.0024"))
    stats.taker.add(Side.BUY, D(10), D("1.2001"), D("0.0042"))
    stats.reaction_ms.add(1.5)
    stats.set_funding("backpack", D("-0.0123"))
    stats.set_funding("aster", None)
    return stats.snapshot()


def test_every_event_kind_reads_as_one_line_and_the_table_shows_the_stats(
    consoles: tuple[io.StringIO, io.StringIO],
) -> None:
    out, err = consoles
    reporter = loop_view.RichReporter("paper", LoopConfig(cycles=2))
    for kind, data in EVENTS:
        reporter.event(LoopEvent(kind=kind, at=AT, cycle=1, leg=1, data=data))
    reporter.stats(_stats())
    reporter.close()
    text = out.getvalue()
    for fragment in (
        "posted (order 7)",
        "filled +5 (leg 5)",
        "hedged on aster: buy 5 @ 1.20012, 1.2 ms after the fill",
        "refused hedge buy 5",
        "positions off by 2",
        "closed 3 on backpack",
        "pausing 120 s: aster funding at 07:55:00 UTC",
        "cycles (legs)",
        "hedge reaction p50 / p99",
        "1.5 / 1.5 ms (1 hedges)",
        "funding on backpack: -0.0123 USDC so far (+ received; 2 payments)",
        "funding backpack (+ received)",
        "-0.0123",
        "funding aster (+ received)",
        "unknown",
    ):
        assert fragment in text, fragment
    assert "connection reset" in err.getvalue()


def test_json_lines_are_one_document_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    output.set_json_mode(True)
    try:
        reporter = loop_view.JsonReporter()
        for kind, data in EVENTS:
            reporter.event(LoopEvent(kind=kind, at=AT, cycle=1, leg=1, data=data))
    finally:
        output.set_json_mode(False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EVENTS)
    docs = [json.loads(line) for line in lines]
    assert [d["event"] for d in docs] == [k for k, _ in EVENTS]
    hedge = docs[5]
    assert (hedge["qty"], hedge["side"], hedge["reaction_ms"]) == ("5", "buy", 1.234)


def _session(settings: Settings) -> Any:
    """What _use_seed_credentials reads of a session: its settings and the real venue registry."""
    return SimpleNamespace(settings=settings, registry=Registry(settings, live_confirmed=True))


def _seed(secret: str) -> Any:
    doc = {
        "bp": {"api_public_key_b64": "pub-from-yaml", "api_secret_key_b64": secret},
        "aster": {"api_key": "key-from-yaml", "api_secret": secret},
        "trade": {
            "quantity": "10",
            "offset_percent": 0.2,
            "first_wait_seconds": 10,
            "between_legs_sleep": 20,
            "stop_before_funding_minutes": 5,
            "cycle_sleep": 60,
        },
    }
    return parse_seed(doc, Path("seed.yaml"))


def test_yaml_keys_fill_in_only_for_venues_without_env_credentials() -> None:
    settings = Settings(
        _env_file=None, HEDGECTL_MODE="live", BACKPACK_API_KEY="pub-from-env", BACKPACK_API_SECRET="secret-from-env"
    )
    session = _session(settings)
    bp_aster_cmd._use_seed_credentials(session, _seed("yaml-secret"))
    assert session.registry.settings is session.settings
    assert session.settings.credentials("backpack")["api_key"].get_secret_value() == "pub-from-env"
    assert session.settings.credentials("aster")["api_secret"].get_secret_value() == "yaml-secret"
    assert "yaml-secret" not in repr(session.settings)


def test_yaml_keys_are_ignored_in_paper_mode() -> None:
    settings = Settings(_env_file=None, HEDGECTL_MODE="paper")
    session = _session(settings)
    bp_aster_cmd._use_seed_credentials(session, _seed("yaml-secret"))
    assert session.settings.credentials("aster") == {}
    assert session.registry.settings.credentials("aster") == {}


def test_yaml_keys_cannot_change_a_venue_already_built() -> None:
    settings = Settings(_env_file=None, HEDGECTL_MODE="live")
    session = _session(settings)
    session.registry._venues["aster"] = object()  # an adapter reads its credentials once, when it is built
    with pytest.raises(ConfigError, match="before any venue is built"):
        bp_aster_cmd._use_seed_credentials(session, _seed("yaml-secret"))


def test_a_loop_stopped_with_its_pair_kept_says_what_it_holds(consoles: tuple[io.StringIO, io.StringIO]) -> None:
    from hedgectl.engine.maker_taker.loop import LoopResult

    config = LoopConfig(on_exit=OnExit.KEEP_HEDGED)
    loop_view.render_summary(LoopResult(config=config, interrupted=True, positions_after=(D(-10), D(10))))
    out, err = consoles
    text = out.getvalue() + err.getvalue()
    assert "interrupted: both venues exactly hedged (backpack -10, aster +10 ASTER, kept open)" in text
