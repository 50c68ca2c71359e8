"""`hedgectl connect`: reachability, clock skew, auth and balances per venue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hedgectl.cli.common import run_command

if TYPE_CHECKING:
    from hedgectl.cli.session import Session
    from hedgectl.domain.types import AccountConfig

HELP = (
    "Check every configured venue: reachable, keys valid, clock skew, mode, balances, and the account's "
    "position mode, margin mode and leverage (BTC's, where the venue sets them per symbol)."
)


def connect(
    ctx: typer.Context,
    venue: Annotated[list[str] | None, typer.Option("--venue", help="Only this venue (repeatable).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    async def body(session: Session) -> int:
        from hedgectl.cli import output, render
        from hedgectl.engine.survey import ConnectResult, check_venues
        from hedgectl.errors import AuthError, ConfigError
        from hedgectl.venues.registry import parse_venue

        names = [parse_venue(v) for v in venue] if venue else session.registry.configured()
        if not names:
            raise_no_venues(session)
        for name in names:
            session.registry.ensure_usable(name)
        # A key that cannot be right (bad base64, not an address) is that venue's auth status, not a stop.
        refused: dict[str, ConnectResult] = {}
        venues = []
        for name in names:
            try:
                venues.append(session.registry.venue(name))
            except (ConfigError, AuthError) as exc:
                host = session.registry.venue_config(name).base_url
                refused[name] = ConnectResult(name, session.mode, host, auth_ok=False, error=f"keys refused: {exc}")
        checked = {r.venue: r for r in await check_venues(venues)}
        results = [refused.get(n) or checked[n] for n in names]
        ok = all(r.ok for r in results)
        if json_out:
            output.emit_document({"ok": ok, "mode": session.mode, "venues": results})
        else:
            render.table(
                f"hedgectl connect ({session.mode} mode)",
                ["venue", "host", "rtt p50 ms", "clock skew ms", "auth", "balances", "account", "status"],
                [
                    [
                        r.venue,
                        r.host,
                        f"{r.rtt_ms_p50:.1f}" if r.rtt_ms_p50 is not None else None,
                        _skew(r.clock_skew_ms),
                        {True: "ok", False: "FAILED", None: "-"}[r.auth_ok],
                        ", ".join(f"{b.asset} {render.fmt(b.total, 2)}" for b in r.balances if b.total) or "-",
                        describe_account(r.account),
                        "ok" if r.ok else r.error,
                    ]
                    for r in results
                ],
                right=["rtt p50 ms", "clock skew ms"],
            )
        return 0 if ok else 1

    run_command(ctx, "connect", {"venue": venue}, body, json_mode=json_out, read_only=True, needs_journal=False)


def _skew(ms: float | None) -> str | None:
    """A clock skew in whole ms, signed ("+12", "-3"); under half a ms either way is "0", never "-0"."""
    if ms is None:
        return None
    whole = round(ms)
    return f"{whole:+d}" if whole else "0"


def describe_account(account: AccountConfig | None) -> str:
    """ "hedge, cross, 20x": position mode, margin mode and leverage ("-" where the venue has none)."""
    if account is None:
        return "-"
    parts = [account.position_mode.value.replace("_", "-"), account.margin_mode or "margin ?"]
    parts.append(f"{account.leverage.normalize():f}x" if account.leverage is not None else "leverage ?")
    return ", ".join(parts)


def raise_no_venues(session: Session) -> None:
    from hedgectl.errors import ConfigError

    raise ConfigError(f"no venue is configured for {session.mode} mode: set credentials in .env (see .env.example)")
