"""Running one command: settings, the live gate, the session, asyncio.run, the exit code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import typer

from hedgectl.cli import output
from hedgectl.cli.session import GlobalOptions, Session


def options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def run_command(
    ctx: typer.Context,
    command: str,
    args: dict[str, Any],
    body: Callable[[Session], Awaitable[int]],
    *,
    json_mode: bool,
    live: bool = False,
    yes: bool = False,
) -> None:
    """Load settings, pass the live gate, open a journaled session and run `body` in it; exit with its code."""
    import asyncio

    from hedgectl.cli import render
    from hedgectl.cli.session import confirm_live, load, open_session

    output.set_json_mode(json_mode)
    settings = load(options(ctx))
    live_confirmed = confirm_live(settings, live=live, yes=yes, ask=typer.prompt)

    async def main() -> int:
        async with open_session(settings, command, args, live_confirmed=live_confirmed, warn=render.warn) as s:
            code = await body(s)
            s.outcome.exit_code = code
            if code != 0 and s.outcome.status == "ok":
                s.outcome.status = "failed"
            return code

    code = asyncio.run(main())
    raise typer.Exit(code)
