"""Parameter types shared by every command: one Decimal option type, shown as <decimal> in --help."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import typer

DECIMAL_METAVAR = "<decimal>"


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
