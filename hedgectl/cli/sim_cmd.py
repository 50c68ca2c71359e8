"""`hedgectl sim ...`: run the exchange simulator, print its credentials, reset the paper account.

Thin and lazy: aiohttp, eth_account and the simulator are imported inside the commands, so
`hedgectl --help` never loads them.
"""

from __future__ import annotations

import json
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


def _paper_state_path(ctx: typer.Context) -> Path:
    """Where paper mode keeps the simulator's account (the registry uses the same path)."""
    from hedgectl.settings import load_settings

    options = ctx.obj
    env_file = getattr(options, "env_file", None)
    settings = load_settings(env_file)
    return settings.state_dir() / "paper" / "sim-state.json"


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

    def ready(url: str) -> None:
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
    from hedgectl.sim.credentials import all_credentials

    data = all_credentials()
    if json_out:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
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
) -> None:
    """Forget the persisted paper account (balances, positions, orders)."""
    path = state or _paper_state_path(ctx)
    if path.exists():
        path.unlink()
        sys.stdout.write(f"paper account reset ({path})\n")
    else:
        sys.stdout.write("paper account already fresh\n")
