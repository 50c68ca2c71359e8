"""The whole hedgectl error tree; each class knows its exit code and what the caller should do.

    HedgectlError                      exit 1
    ├── UsageError                     exit 2   bad flags, bad input
    ├── ConfigError                    exit 2   bad settings, missing credentials, mode refused
    ├── ExposureRemains                exit 3   a position could not be closed (carries the exposure)
    ├── BreakerTripped                 exit 4   the circuit breaker is tripped: nothing that opens exposure runs
    ├── Interrupted                    exit 130 the user pressed Ctrl+C (after flattening)
    └── VenueError                     exit 1   anything a venue said or failed to say
        ├── AuthError                  stop: keys wrong, expired or lacking permission
        ├── InsufficientFunds          reject: not enough balance or margin
        ├── OrderRejected              reject: the venue refused this order (rules, reduce-only, post-only)
        ├── OrderNotFound              the venue does not know this order (any more)
        ├── RateLimited                back off, then retry
        ├── Unavailable                retry: the request certainly did not take effect
        ├── AmbiguousOrderState        reconcile by client order id; never resend blindly
        ├── BadResponse                the reply could not be understood; nothing is assumed
        └── SymbolNotListed            the venue does not list this market

Messages never contain secrets: adapters build them from venue codes and messages only.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

# A finished command's exit code -> the status its journal run is recorded with (`hedgectl history`).
_RUN_STATUS = {0: "ok", 1: "failed", 3: "exposure", 130: "interrupted"}


def run_status(exit_code: int) -> str:
    """The journal's word for how a run ended, from its exit code (anything unlisted: failed)."""
    return _RUN_STATUS.get(exit_code, "failed")


class Action(StrEnum):
    """What a caller should do about an error."""

    STOP = "stop"
    RETRY = "retry"
    BACK_OFF = "back_off"
    REJECT = "reject"
    RECONCILE = "reconcile"


class HedgectlError(Exception):
    """Base of every error hedgectl raises on purpose."""

    exit_code: int = 1
    action: Action = Action.STOP

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(HedgectlError):
    """Bad flags or input values."""

    exit_code = 2


class ConfigError(HedgectlError):
    """Bad settings, missing credentials, or a mode the command refuses."""

    exit_code = 2


class ExposureRemains(HedgectlError):
    """Positions are still open after every attempt to close them."""

    exit_code = 3

    def __init__(self, message: str, exposure: dict[str, dict[str, Decimal]]) -> None:
        super().__init__(message)
        self.exposure = exposure


class BreakerTripped(HedgectlError):
    """The circuit breaker is tripped (see `hedgectl breaker status`): a command that would open exposure refuses."""

    exit_code = 4


class Interrupted(HedgectlError):
    """The user interrupted the command; whatever was open has been flattened."""

    exit_code = 130
    # Ctrl+C before the command could send anything (Python loading the CLI, typer reading the command line).
    STARTING = "interrupted while starting: no order was sent"


class VenueError(HedgectlError):
    """A venue refused, failed or answered something we cannot use."""

    def __init__(self, venue: str, message: str, *, code: str | None = None) -> None:
        prefix = f"{venue}: " if venue else ""
        super().__init__(f"{prefix}{message}" + (f" (code {code})" if code else ""))
        self.venue = venue
        self.code = code
        self.reason = message
        self.detail = message + (f" (code {code})" if code else "")  # the text without the venue's name


def venue_said(venue: str, error: BaseException | str) -> str:
    """`venue: what went wrong`, the venue named once: a VenueError's own text already starts with its venue,
    so every place that attributes an error to a venue goes through here instead of prefixing it again."""
    if isinstance(error, VenueError) and error.venue == venue:
        return str(error)
    text = str(error)
    return text if text.startswith(f"{venue}: ") else f"{venue}: {text}"


class AuthError(VenueError):
    action = Action.STOP


class InsufficientFunds(VenueError):
    action = Action.REJECT


class OrderRejected(VenueError):
    action = Action.REJECT


class OrderNotFound(VenueError):
    action = Action.REJECT


class RateLimited(VenueError):
    action = Action.BACK_OFF


class Unavailable(VenueError):
    action = Action.RETRY


class AmbiguousOrderState(VenueError):
    """The order may or may not exist: look it up by client order id before anything else."""

    action = Action.RECONCILE


class BadResponse(VenueError):
    action = Action.STOP


class SymbolNotListed(VenueError):
    action = Action.REJECT
