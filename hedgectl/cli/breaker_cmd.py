"""`hedgectl breaker status|reset`: the circuit breaker across runs, and the check every opening command makes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hedgectl.cli import output
from hedgectl.cli.common import options

if TYPE_CHECKING:
    from hedgectl.cli.session import Session
    from hedgectl.engine.carry.breaker import BreakerLimits, RecordTrip
    from hedgectl.journal import Journal
    from hedgectl.settings import Settings

HELP = "Show or reset the circuit breaker (daily loss, venue error burst, unrepairable delta)."
breaker_app = typer.Typer(help=HELP, no_args_is_help=True)


def limits_of(settings: Settings) -> BreakerLimits:
    from hedgectl.engine.carry.breaker import BreakerLimits

    return BreakerLimits(
        daily_loss_usdt=settings.breaker_daily_loss_usdt,
        error_burst=settings.breaker_error_burst,
        error_window_s=settings.breaker_error_window_s,
    )


def refuse_if_tripped(session: Session) -> None:
    """For a command that would open exposure: exit 4, saying why, while the breaker is tripped."""
    from hedgectl.clock import SYSTEM_CLOCK
    from hedgectl.engine.carry.breaker import refuse_if_tripped as refuse

    refuse(session.journal, limits_of(session.settings), SYSTEM_CLOCK.now(), record_trip(session.journal))


def record_trip(journal: Journal) -> RecordTrip:
    """A trip found by the CLI's own check, before any run trades: journaled with no run."""

    def record(kind: str, reason: str) -> None:
        journal.trip_breaker(kind, reason, None)

    return record


@breaker_app.command("status", help="Whether the breaker is tripped, why, and today's realised PnL.")
def status(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    from hedgectl.cli import render
    from hedgectl.cli.session import load, open_journal
    from hedgectl.clock import SYSTEM_CLOCK
    from hedgectl.engine.carry.breaker import check_daily_loss, realised_today

    output.set_json_mode(json_out)
    settings = load(options(ctx))
    journal = open_journal(settings)
    try:
        limits = limits_of(settings)
        now = SYSTEM_CLOCK.now()
        check_daily_loss(journal, limits, now, record_trip(journal))
        trips = journal.breaker_trips()
        realised = realised_today(journal, now)
    finally:
        journal.close()
    if json_out:
        output.emit_document(
            {
                "tripped": bool(trips),
                "trips": trips,
                "realised_today": realised,
                "daily_loss_limit": limits.daily_loss_usdt,
                "error_burst": limits.error_burst,
                "error_window_s": limits.error_window_s,
            }
        )
    else:
        if trips:
            render.error("circuit breaker TRIPPED: commands that open exposure exit 4 until `hedgectl breaker reset`")
            for trip in trips:
                render.line(f"  {trip['kind']} at {trip['tripped_at']} (run {trip['run_id'] or '-'}): {trip['reason']}")
        else:
            render.line("circuit breaker: not tripped", style="green")
        limit = f"{limits.daily_loss_usdt} USDT" if limits.daily_loss_usdt is not None else "none"
        render.line(
            f"realised today (UTC): {realised:+.4f} USDT; daily loss limit {limit}; "
            f"error burst {limits.error_burst} in {limits.error_window_s:g} s"
        )
    raise typer.Exit(4 if trips else 0)


@breaker_app.command("reset", help="Clear every trip (the daily loss counts again from now).")
def reset(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    from hedgectl.cli import render
    from hedgectl.cli.session import load, open_journal

    output.set_json_mode(json_out)
    settings = load(options(ctx))
    journal = open_journal(settings)
    try:
        cleared = journal.reset_breaker()
    finally:
        journal.close()
    if json_out:
        output.emit_document({"cleared": cleared})
    else:
        render.line(f"circuit breaker reset ({cleared} trip(s) cleared)")
