"""`hedgectl sim ...`: run the exchange simulator, print its credentials, reset the paper account.

Thin and lazy: aiohttp, eth_account and the simulator are imported inside the commands, so
`hedgectl --help` never loads them.
"""

from __future__ import annotations

import sys
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
        bool, typer.Option("--json", help='When ready, print one JSON line {"ok", "url", "seed"} on stdout.')
    ] = False,
) -> None:
    """Serve the simulator until SIGINT/SIGTERM."""
    import asyncio

    from hedgectl.sim.server import serve as run_server

    if not 0 <= port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if tick_ms <= 0:
        raise UsageError("--tick-ms must be positive")
    if host not in LOOPBACK:
        sys.stderr.write(f"warning: the simulator accepts fixed public credentials; it is reachable on {host}\n")

    from hedgectl.cli import output

    output.set_json_mode(json_out)

    def ready(url: str) -> None:
        if json_out:
            output.emit_document({"ok": True, "url": url, "seed": seed})
            return
        sys.stdout.write(f"hedgectl simulator listening on {url} (seed {seed}); Ctrl+C to stop\n")
        sys.stdout.flush()

    try:
        asyncio.run(run_server(host, port, seed, state_path=state, tick_ms=tick_ms, frozen=frozen, ready=ready))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


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
    try:
        path.unlink()
    except FileNotFoundError:
        _done(json_out, "paper account already fresh", target="file", where=str(path), removed=False)
        return
    except OSError as exc:
        raise ConfigError(
            f"cannot remove the paper account {path} ({(exc.strerror or type(exc).__name__).lower()}): "
            f"make {path.parent} writable, or set HEDGECTL_HOME to a writable directory"
        ) from None
    _done(json_out, f"paper account reset ({path})", target="file", where=str(path), removed=True)


def _done(json_out: bool, text: str, **fields: object) -> None:
    from hedgectl.cli import output

    if json_out:
        output.emit_document({"ok": True, **fields})
    else:
        sys.stdout.write(text + "\n")
