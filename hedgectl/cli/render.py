"""Human output: the only module that imports rich. Tables and lines to stdout, warnings/errors to stderr."""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

_stdout: Console | None = None
_stderr: Console | None = None
_live: Live | None = None  # the live display on stdout, while one runs


def stdout_console() -> Console:
    global _stdout
    if _stdout is None:
        # Piped output keeps whole numbers and ids readable instead of Rich's 80-column default.
        width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140
        _stdout = Console(file=sys.stdout, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=False, width=width)
    return _stdout


def stderr_console() -> Console:
    global _stderr
    if _stderr is None:
        _stderr = Console(file=sys.stderr, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=True)
    return _stderr


def use_consoles(stdout: Console | None, stderr: Console | None) -> None:
    """Substitute consoles (tests render into StringIO)."""
    global _stdout, _stderr
    _stdout, _stderr = stdout, stderr


def fmt(value: Any, places: int | None = None) -> str:
    """A cell: Decimals without exponent (optionally quantized), None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        return format(value.normalize() if places is None else value, "f")
    return str(value)


def line(text: str, style: str | None = None) -> None:
    stdout_console().print(Text(text, style=style or ""))


def heading(text: str) -> None:
    stdout_console().rule(Text(text, style="bold"))


def warn(text: str) -> None:
    _to_stderr(Text(f"warning: {text}", style="yellow"))


def live_banner(text: str) -> None:
    """The LIVE banner a read-only command shows in live mode (stderr, so stdout stays one document)."""
    stderr_console().print(Text(f"LIVE {text}", style="bold white on red"))


def error(text: str) -> None:
    _to_stderr(Text(f"error: {text}", style="bold red"))


def _to_stderr(text: Text) -> None:
    live, console = _live, stderr_console()
    if live is not None and console.is_terminal:
        # Written straight to the terminal, a line under a live display is erased by its next refresh:
        # print it above the display instead (the same terminal).
        live.console.print(text, soft_wrap=True)
    else:
        console.print(text, soft_wrap=True)


Rows = Sequence[Sequence[Any]]


def table(
    title: str | None, columns: Sequence[str], rows: Rows, *, right: Sequence[str] = (), whole: Sequence[str] = ()
) -> None:
    stdout_console().print(make_table(title, columns, rows, right=right, whole=whole))


@contextmanager
def live_text(initial: str) -> Iterator[Any]:
    """A line that updates in place (a countdown); yields a function taking the new text. It stays one line
    within the terminal's width (cut with an ellipsis when narrower): a wrapped live line is redrawn badly."""
    console = stdout_console()
    if not console.is_terminal:
        yield lambda _text: None
        return

    def one_line(text: str) -> Text:
        return Text(text, no_wrap=True, overflow="ellipsis")

    with Live(one_line(initial), console=console, refresh_per_second=8, transient=False) as live:
        yield lambda text: live.update(one_line(text))


@contextmanager
def live_table(build: Any, *, log_when_piped: bool = False) -> Iterator[Any]:
    """A table re-rendered in place; yields `update(renderable_args)` that rebuilds it via `build(args)`.

    Off a terminal a live display draws only once, when it ends. `log_when_piped`: print every update there
    instead, one table after the other (a watch whose output goes to a file or `tee`)."""
    global _live
    console = stdout_console()
    if log_when_piped and not console.is_terminal:

        def log(args: Any) -> None:
            console.print(build(args))
            console.file.flush()

        yield log
        return
    # No redirection of sys.stdout/sys.stderr: warnings go through `_to_stderr`, which knows about the display.
    live = Live(
        console=console, refresh_per_second=4, transient=False, auto_refresh=False, redirect_stdout=False,
        redirect_stderr=False,
    )  # fmt: skip
    with live:

        def update(args: Any) -> None:
            live.update(build(args), refresh=True)

        _live = live if console.is_terminal else None
        try:
            yield update
        finally:
            _live = None


def with_line(renderable: Any, text: str | None, style: str = "yellow") -> Any:
    """`renderable` with a line under it (a countdown), or alone when `text` is None."""
    return renderable if text is None else Group(renderable, Text(text, style=style))


def make_table(
    title: str | None,
    columns: Sequence[str],
    rows: Rows,
    *,
    right: Sequence[str] = (),
    whole: Sequence[str] = (),
    key: int = 1,
) -> Any:
    """A table for the terminal's width that never splits a number, an id or a name.

    A column whose cells are single words (numbers, ids, venue names) keeps them whole, as does one in `whole`;
    only free text (cells with spaces) wraps, at its spaces, and headers wrap at theirs. A table still too wide is
    drawn as several, one under the other, each repeating the first `key` columns (what names a row: one column,
    or several where the first alone repeats, e.g. scan's base, long and short).
    The title is its own line above, wrapped at the terminal's width rather than the table's."""
    cells = [[fmt(c) for c in row] for row in rows]
    width = stdout_console().width
    kept = [col in whole or not any(" " in row[i] for row in cells) for i, col in enumerate(columns)]
    need = [_need(col, [row[i] for row in cells], kept[i]) for i, col in enumerate(columns)]
    full = [max([need[i], *(_longest_line(row[i]) for row in cells)]) for i in range(len(columns))]
    natural = [max(full[i], _longest_line(col)) for i, col in enumerate(columns)]
    tables = [
        _part_table(
            [columns[i] for i in part],
            [[row[i] for i in part] for row in cells],
            right=right,
            kept=[kept[i] for i in part],
            widths=_widths([need[i] for i in part], [full[i] for i in part], [natural[i] for i in part], width),
        )
        for part in _parts(need, width, key)
    ]
    if title is None and len(tables) == 1:
        return tables[0]
    return Group(*([Text(title, style="table.title")] if title else []), *tables)


_CELL_EXTRA = 3  # a cell's padding (a space each side) and the border to its right


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _need(header: str, texts: Sequence[str], kept: bool) -> int:
    """The least width of a column: whole lines where kept, else its longest word (at most 20, longer ones fold);
    a header's longest word."""
    words = [len(w) for t in texts for w in t.split()] or [0]
    cells = max(_longest_line(t) for t in texts) if kept and texts else min(max(words), 20)
    return max(cells, *(len(w) for w in header.split()), 1)


def _fits(needs: Sequence[int], width: int) -> bool:
    return sum(needs) + _CELL_EXTRA * len(needs) + 1 <= width


def _parts(need: Sequence[int], width: int, key: int = 1) -> list[list[int]]:
    """Column indexes per table: all in one when they fit, else as few tables as fit, of even widths, each starting
    with the first `key` columns."""
    key = max(1, min(key, len(need) - 2))
    if _fits(need, width) or len(need) < 3:
        return [list(range(len(need)))]
    head = list(range(key))
    greedy = [list(head)]
    for i in range(key, len(need)):
        if len(greedy[-1]) > key and not _fits([need[j] for j in (*greedy[-1], i)], width):
            greedy.append(list(head))
        greedy[-1].append(i)
    share = sum(need[key:]) / len(greedy)  # what each table would hold of the rest, evenly
    even: list[list[int]] = [list(head)]
    for i in range(key, len(need)):
        held = sum(need[j] for j in even[-1][key:])
        if len(even[-1]) > key and len(even) < len(greedy) and held + need[i] / 2 > share:
            even.append(list(head))
        even[-1].append(i)
    return even if all(_fits([need[j] for j in part], width) for part in even) else greedy


def _widths(need: Sequence[int], cells: Sequence[int], natural: Sequence[int], width: int) -> list[int] | None:
    """Column widths when the natural ones do not fit: each its need, the room left given first to cells that would
    wrap, then to headers (None: the natural widths fit, let Rich lay it out)."""
    if _fits(natural, width):
        return None
    widths = list(need)
    room = width - (sum(widths) + _CELL_EXTRA * len(widths) + 1)
    for target in (cells, natural):
        while room > 0:
            short = max(range(len(widths)), key=lambda i: target[i] - widths[i])
            if target[short] <= widths[short]:
                break
            widths[short] += 1
            room -= 1
    return widths


def _part_table(
    columns: Sequence[str], rows: Rows, *, right: Sequence[str], kept: Sequence[bool], widths: list[int] | None
) -> Table:
    t = Table(title_justify="left")
    for i, col in enumerate(columns):
        t.add_column(
            Text(col, no_wrap=False, overflow="fold"),  # a header wraps at its spaces, never its cells
            justify="right" if col in right else "left",
            overflow="fold",
            no_wrap=kept[i],
            width=None if widths is None else widths[i],
        )
    for row in rows:
        t.add_row(*row)
    return t


class TrailChart:
    """A value over the last `window_s` seconds (or since its first point, while that is shorter) as a small
    block chart, in constant memory.

    A point closer to the one before than a quarter of a column (of the span so far, at least 1 s) replaces it,
    and points older than the window are dropped: a thousand updates a second cost what one does, and the chart
    holds at most about 4 x width x (1 + ln window_s) points. With `carry`, a column without
    a point repeats the one before it (a running total, such as PnL); without, it stays blank (samples, such as
    each hedge's basis)."""

    BLOCKS = "▁▂▃▄▅▆▇█"

    def __init__(
        self, label: str, unit: str, *, window_s: float, width: int = 48, height: int = 2, carry: bool = True
    ) -> None:
        self.label, self.unit, self.carry = label, unit, carry
        self.window_s, self.width, self.height = window_s, width, height
        self._points: deque[tuple[float, float]] = deque()
        self._before: float | None = None  # the last value that left the window (where a carried chart starts)

    def add(self, at_s: float, value: float) -> None:
        """Record `value` at `at_s` (any monotonic clock, in seconds; never earlier than the last point)."""
        if len(self._points) > 1:  # the first point stays: the span is measured from it
            span = min(self.window_s, max(1.0, at_s - self._points[0][0]))
            if at_s - self._points[-1][0] < span / self.width / 4:
                self._points.pop()
        self._points.append((at_s, value))
        self._trim(at_s)

    def _trim(self, now_s: float) -> None:
        while self._points and self._points[0][0] < now_s - self.window_s:
            self._before = self._points.popleft()[1]

    def span_s(self, now_s: float) -> float:
        """What the chart spans at `now_s`: the window, or less while the first point is more recent."""
        self._trim(now_s)
        if self._before is not None or not self._points:
            return self.window_s
        return min(self.window_s, max(1.0, now_s - self._points[0][0]))

    def columns(self, now_s: float) -> list[float | None]:
        """The value of each column, oldest first: the last point in its slice of the span ending at `now_s`."""
        span = self.span_s(now_s)
        start, slot = now_s - span, span / self.width
        out: list[float | None] = [None] * self.width
        for at, value in self._points:
            out[min(self.width - 1, max(0, int((at - start) / slot)))] = value
        if self.carry:
            last: float | None = self._before
            for i, column in enumerate(out):
                last = column if column is not None else last
                out[i] = last
        return out

    def render(self, now_s: float) -> Group:
        """A title line (last value, range, span) over `height` rows of blocks rising from the span's min."""
        columns = self.columns(now_s)
        span = self.span_s(now_s)
        known = [v for v in columns if v is not None]
        since = f"{span / 60:.0f} min" if span >= 120 else f"{span:.0f} s"
        if not known:
            return Group(Text(f"{self.label} (last {since}): no data yet", style="dim"))
        low, high, last = min(known), max(known), known[-1]
        steps = self.height * len(self.BLOCKS)
        rows = []
        for row in range(self.height - 1, -1, -1):
            cells = []
            for value in columns:
                if value is None:
                    cells.append(" ")
                    continue
                level = 1 + round((value - low) / (high - low) * (steps - 1)) if high > low else steps // 2
                fill = min(len(self.BLOCKS), level - row * len(self.BLOCKS))
                cells.append(self.BLOCKS[fill - 1] if fill > 0 else " ")
            rows.append(Text("".join(cells), style="green" if last >= 0 else "red"))
        title = Text(f"{self.label} (last {since}): {last:+.4f} {self.unit}  [{low:+.4f} .. {high:+.4f}]")
        return Group(title, *rows)


def stack(*charts: Any, main: Any) -> Group:
    """Charts above a live view (a table and its countdown line); the charts are left out when the terminal is
    too short to show them with the whole view, which a live display would otherwise crop from the bottom,
    countdown first."""
    console = stdout_console()
    if charts and console.is_terminal:
        options = console.options
        height = sum(len(console.render_lines(r, options, pad=False)) for r in (*charts, main))
        if height >= console.size.height:
            return Group(main)
    return Group(*charts, main)


def duration(seconds: float) -> str:
    """A time left, to the second: `5h26m40s` (never negative: a moment passed shows 0h00m00s)."""
    s = max(0, int(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"
