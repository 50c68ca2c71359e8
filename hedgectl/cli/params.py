"""Parameters shared by every command: the root's global options, one Decimal option type (<decimal> in --help)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer

DECIMAL_METAVAR = "<decimal>"


@dataclass
class GlobalOptions:
    """The root's options (`--env-file`, `--mode`, `-v`), handed to every command as the context's `obj`."""

    env_file: Path | None = None
    mode: str | None = None
    verbose: bool = False


def parse_decimal(text: str | Decimal) -> Decimal:
    """A finite Decimal from what the user typed (never through float); a usage error otherwise."""
    if isinstance(text, Decimal):  # a default
        return text
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise typer.BadParameter(f"must be a number, got {text!r}") from None
    if not value.is_finite():
        raise typer.BadParameter(f"must be a finite number, got {text!r}")
    return value


def decimal_option(*names: str, help: str) -> Any:
    """typer.Option for a money or ratio value: parsed to Decimal, typed <decimal> in --help."""
    return typer.Option(*names, help=help, parser=parse_decimal, metavar=DECIMAL_METAVAR)
