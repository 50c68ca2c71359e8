"""`hedgectl sim ...`: run the exchange simulator, print its credentials, reset the paper account.

Thin and lazy: aiohttp, eth_account and the simulator are imported inside the commands, so
`hedgectl --help` never loads them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from hedgectl.errors import ConfigError, UsageError

sim_app = typer.Typer(
    name="sim",
    help="The built-in exchange simulator (paper mode's venue; four real wire dialects).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@sim_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0 = pick a free one).")] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the price process.")] = 0,
    state: Annotated[
        Path | None, typer.Option("--state", help="Load the paper account from this file and save it back.")
    ] = None,
    tick_ms: Annotated[int, typer.Option("--tick-ms", help="Milliseconds per price tick.")] = 250,
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Start with the price clock frozen (move it via POST /_sim/clock).")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help='When ready, print one JSON line {"ok", "url", "seed", "market"} on stdout.')
    ] = False,
    market: Annotated[
        str | None,
        typer.Option(
            "--market",
            help="Market source: synthetic (seeded walk), replay:FILE or live (public data); "
            "default HEDGECTL_SIM_MARKET or synthetic.",
        ),
    ] = None,
    speed: Annotated[
        str | None, typer.Option("--speed", help="replay only: playback speed (1 = as recorded, 10 = ten times).")
    ] = None,
) -> None:
    """Serve the simulator until SIGINT/SIGTERM."""
    import asyncio

    from hedgectl.cli.paper import sim_fees
    from hedgectl.settings import load_settings
    from hedgectl.sim.market_source import parse_market
    from hedgectl.sim.server import serve as run_server

    if not 0 <= port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if tick_ms <= 0:
        raise UsageError("--tick-ms must be positive")
    if host not in LOOPBACK:
        sys.stderr.write(f"warning: the simulator accepts fixed public credentials; it is reachable on {host}\n")

    from hedgectl.cli import output

    output.set_json_mode(json_out)
    settings = load_settings(getattr(ctx.obj, "env_file", None))
    spec = parse_market(
        market if market is not None else settings.sim_market,
        speed=speed if speed is not None else settings.sim_replay_speed,
        venues=settings.sim_live_venues,
        symbols=settings.sim_live_symbols,
        live_url=settings.sim_live_url or None,
    )
    if speed is not None and spec.kind != "replay":
        raise UsageError("--speed applies to a replay market only")

    def ready(url: str) -> None:
        if json_out:
            output.emit_document({"ok": True, "url": url, "seed": seed, "market": spec.label})
            return
        sys.stdout.write(f"hedgectl simulator listening on {url} (seed {seed}, market {spec.label}); Ctrl+C to stop\n")
        sys.stdout.flush()

    try:
        asyncio.run(
            run_server(
                host,
                port,
                seed,
                state_path=state,
                tick_ms=tick_ms,
                frozen=frozen,
                ready=ready,
                market=spec,
                fees=sim_fees(settings),
            )
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@sim_app.command("record")
def record(
    out: Annotated[Path, typer.Argument(help="The recording to write (JSON Lines, format hedgectl-market v1).")],
    venues: Annotated[str, typer.Option("--venues", help="Comma-separated venues.")] = "binance,okx,backpack,aster",
    symbols: Annotated[str, typer.Option("--symbols", help="Comma-separated base assets (BTC, ETH, SOL, ASTER).")] = (
        "BTC"
    ),
    minutes: Annotated[str, typer.Option("--minutes", help="How long to record (decimals allowed).")] = "5",
    poll_ms: Annotated[int, typer.Option("--poll-ms", help="Milliseconds between two reads of each pair.")] = 1000,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Read a simulator standing in for the venues (its /<venue> routes)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Capture the venues' public books, trades and funding rates for `replay` (no keys needed)."""
    import asyncio
    from decimal import Decimal, InvalidOperation

    from hedgectl.cli import output
    from hedgectl.sim.market_source import parse_market
    from hedgectl.sim.market_source.record import record as run_record

    output.set_json_mode(json_out)
    spec = parse_market("live", venues=venues, symbols=symbols, live_url=url)
    try:
        length = Decimal(minutes)
    except InvalidOperation:
        length = Decimal(-1)
    if not length.is_finite() or not 0 < length <= 24 * 60:
        raise UsageError("--minutes must be a number of minutes above 0 and at most 1440")
    if not 50 <= poll_ms <= 60_000:
        raise UsageError("--poll-ms must be between 50 and 60000")
    pairs = [(v, b) for v in spec.venues for b in spec.symbols]
    done = asyncio.run(run_record(pairs, out, seconds=float(length * 60), base_url=spec.live_url, poll_ms=poll_ms))
    missing = [f"{v}:{b}" for v, b in done.missing]
    if json_out:
        output.emit_document(
            {
                "ok": True,
                "file": str(out),
                "events": done.events,
                "pairs": [f"{v}:{b}" for v, b in done.pairs],
                "missing": missing,
                "trade_gaps": done.gaps,
            }
        )
        return
    sys.stdout.write(f"recorded {done.events} events of {len(done.pairs)} pairs to {out}\n")
    if missing:
        sys.stdout.write(f"no data for {', '.join(missing)}\n")
    if done.gaps:
        sys.stdout.write(
            f"{done.gaps} polls returned only new trades: some trades may be missing (try a smaller --poll-ms)\n"
        )


@sim_app.command("creds")
def creds(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Print the fixed credentials the simulator accepts (they guard nothing real)."""
    from hedgectl.cli import output
    from hedgectl.sim.credentials import all_credentials

    output.set_json_mode(json_out)
    data = all_credentials()
    if json_out:
        output.emit_document(data)
        return
    for venue, fields in data.items():
        for name, value in fields.items():
            sys.stdout.write(f"{venue:<9} {name:<12} {value}\n")


@sim_app.command("reset")
def reset(
    ctx: typer.Context,
    state: Annotated[
        Path | None, typer.Option("--state", help="Reset this file instead of paper mode's account.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Clear the paper account: the running simulator's (HEDGECTL_SIM_URL) or the one saved in HEDGECTL_HOME."""
    from hedgectl.cli import output
    from hedgectl.settings import load_settings

    output.set_json_mode(json_out)
    settings = load_settings(getattr(ctx.obj, "env_file", None))
    if state is None and settings.sim_url:
        from hedgectl.sim.remote import reset_remote

        url = settings.sim_url.rstrip("/")
        reset_remote(url, timeout_s=settings.http_timeout_s)
        _done(json_out, f"simulator at {url} reset (fresh accounts and prices)", target="simulator", where=url)
        return
    path = state or settings.state_dir() / "paper" / "sim-state.json"
    # The accounts of the other market sources too (README "Market sources"), unless one file was named.
    paths = [path] if state is not None else [path, *(path.parent / f"sim-state-{k}.json" for k in ("replay", "live"))]
    with _unused(paths):
        removed = _remove(path)
        for other in paths[1:]:
            _remove(other, quiet=True)
    if not removed:
        _done(json_out, "paper account already fresh", target="file", where=str(path), removed=False)
        return
    _done(json_out, f"paper account reset ({path})", target="file", where=str(path), removed=True)


@contextlib.contextmanager
def _unused(paths: list[Path]) -> Iterator[None]:
    """Hold the lock of every account in `paths` meanwhile, or refuse at once naming the command that holds one:
    a command running on the account would go on trading it and save it back, over the reset."""
    from hedgectl.sim.account_lock import AccountLock

    locks = [AccountLock(p, wait_s=0) for p in paths if p.parent.is_dir()]  # no directory: nothing to hold
    try:
        for lock in locks:
            holder = lock.holder()
            if holder is not None:
                raise ConfigError(
                    f"the paper account {lock.path.parent} is in use by a running hedgectl command{holder.owner}"
                    f"{_command_of(holder.pid)}: nothing was reset; let it end (or stop it), then reset"
                )
            lock.acquire()  # free a moment ago; taken since by a command just starting: the same refusal
        yield
    finally:
        for lock in locks:
            lock.release()


def _command_of(pid: int | None) -> str:
    """': hedgectl bootstrap --hold 15' from /proc on Linux, else ''."""
    if pid is None:
        return ""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    words = [w.decode(errors="replace") for w in argv if w]
    for i, word in enumerate(words[:3]):  # python -m hedgectl ARGS, or .venv/bin/hedgectl ARGS
        if Path(word).name == "hedgectl":
            return f", `hedgectl {' '.join(words[i + 1 : i + 7])}`"
    return ""  # not hedgectl's (the pid was reused)


def _remove(path: Path, *, quiet: bool = False) -> bool:
    """Remove a saved account (its snapshot and its log); False if there was none."""
    from hedgectl.sim.persist import log_path

    with contextlib.suppress(OSError):
        log_path(path).unlink()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        if quiet:
            return False
        raise ConfigError(
            f"cannot remove the paper account {path} ({(exc.strerror or type(exc).__name__).lower()}): "
            f"make {path.parent} writable, or set HEDGECTL_HOME to a writable directory"
        ) from None
    return True


def _done(json_out: bool, text: str, **fields: object) -> None:
    from hedgectl.cli import output

    if json_out:
        output.emit_document({"ok": True, **fields})
    else:
        sys.stdout.write(text + "\n")
