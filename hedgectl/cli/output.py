"""Machine output for --json: one JSON document on stdout (JSON Lines for loops); decimals as strings."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Convert domain values (Decimal, datetime, dataclasses, enums) into JSON-ready values."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def dumps(document: Any) -> str:
    return json.dumps(to_jsonable(document), separators=(",", ":"), sort_keys=False)


def emit(document: Any) -> None:
    """Write one JSON document (one line) to stdout and flush it."""
    sys.stdout.write(dumps(document) + "\n")
    sys.stdout.flush()


class _State:
    json_mode = False
    emitted = False
    live = False  # live mode (a read-only command): every JSON document says so with "live": true
    market: str | None = None  # paper mode: the simulator's market source, a "market" field of every document
    secrets: frozenset[str] = frozenset()  # credential values of this invocation, masked in every log line


STATE = _State()


def set_json_mode(enabled: bool) -> None:
    STATE.json_mode = enabled


def emit_document(document: Any) -> None:
    """Emit the command's one JSON document (or one JSON Lines event) and remember that we did."""
    STATE.emitted = True
    if STATE.live and isinstance(document, dict):
        document = {**document, "live": True}
    if STATE.market is not None and isinstance(document, dict) and document.get("ok") is not False:
        document = {**document, "market": STATE.market}
    emit(document)


class ClosedPipeSafe:
    """A text stream whose reader may go away (`hedgectl bootstrap | tee log`, and Ctrl+C kills `tee` too):
    a write or flush to a closed pipe is dropped, never raised into the engine, which must go on flattening
    and exit with its own code. The first such failure stops the running command as a SIGTERM would
    (`engine.interrupts.output_gone`): nothing trades unseen, and a read-only watch ends. Everything else is the
    wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._closed()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._closed()

    def _closed(self) -> None:
        from hedgectl.engine.interrupts import output_gone

        self.closed_pipe = True
        output_gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
