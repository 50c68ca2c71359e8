"""Ctrl+C and SIGTERM as a request to stop safely, not as an exception thrown into in-flight orders.

The first signal sets `stop` (the engine flattens and exits 130). A second one, while flattening, warns
that exposure may remain and asks for a third; the third aborts at once: exit 3 while `open_now` says something
may be open (naming it where known), exit 130 when it says nothing is (no order sent, or every leg closed).
Before it exits, `on_abort(exit_code, message)` records the abort (the CLI ends the run in the journal).

The reader of the output going away (`hedgectl bootstrap | head`, a closed terminal pipe) is a stop too, as a
SIGTERM: a command must never go on trading unseen. It is seen at once on a pipe (the loop watches stdout and
stderr for the reader's end), and on any stream at the first write that fails (`output_gone`, called by the
CLI's stream wrapper). `output_closed` tells a read-only watch to end quietly instead of as interrupted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hedgectl.aio import stop_tasks, wait_event

T = TypeVar("T")

ABORT_EXIT_CODE = 3
INTERRUPTED_EXIT_CODE = 130
CLOSED_OUTPUT_EXIT_CODE = 141  # a read-only watch whose output's reader went away: as a death by SIGPIPE
OUTPUT_FDS = (1, 2)  # stdout, stderr: a pipe's reader going away stops the command

_INSTALLED: list[Interrupts] = []  # the installed instances, told when the output's reader goes away


def output_gone() -> None:
    """The output's reader went away (a write to it failed): every installed Interrupts stops as for a SIGTERM."""
    for interrupts in list(_INSTALLED):
        interrupts.stop_for_closed_output()


class Interrupts:
    def __init__(
        self,
        warn: Callable[[str], None],
        *,
        first_message: str = (
            "interrupted: stopping and flattening whatever is open "
            "(Ctrl+C twice more aborts at once, and positions may then remain open)"
        ),
        doing: str = "flattening",
        open_now: Callable[[], str | None] = lambda: "positions may remain open",
        on_abort: Callable[[int, str], None] | None = None,
        closed_output_message: str | None = (
            "the output's reader went away: stopping as for Ctrl+C, so that nothing trades unseen"
        ),
    ) -> None:
        self._first_message = first_message
        self._doing = doing  # what the second press interrupts ("still <doing>: ...")
        self._open_now = open_now  # asked at the third signal: what may be open, None if nothing; default: the worst
        self.stop = asyncio.Event()
        self.count = 0
        self.signal_name: str | None = None  # the first signal received ("SIGINT", "SIGTERM"), once one was
        self.flattening = False
        self._warn = warn
        self._on_abort = on_abort  # called with (exit code, message) just before the third signal exits
        self._installed: list[int] = []
        self._closed_output_message = closed_output_message  # None: stop quietly (a read-only watch)
        self._watched_fds: list[int] = []
        self.output_closed = False  # the stop came from the output's reader going away

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
                self._installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
                continue
        for fd in OUTPUT_FDS:
            if _is_pipe(fd):
                # A pipe's write end turns "readable" (EPOLLERR) only when its reader is gone.
                loop.add_reader(fd, self._on_output_fd_closed, fd)
                self._watched_fds.append(fd)
        _INSTALLED.append(self)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()
        for fd in self._watched_fds:
            loop.remove_reader(fd)
        self._watched_fds.clear()
        if self in _INSTALLED:
            _INSTALLED.remove(self)

    def _on_output_fd_closed(self, fd: int) -> None:
        asyncio.get_running_loop().remove_reader(fd)
        self._watched_fds.remove(fd)
        self.stop_for_closed_output()

    def stop_for_closed_output(self) -> None:
        """Stop as a SIGTERM would, once. It is not a press: Ctrl+C counts on as before (`cmd | tee log` and one
        Ctrl+C end `tee` and signal this process together, in either order: still one press)."""
        if self.output_closed or self.stop.is_set():
            return  # already stopping: the earlier cause stands
        self.output_closed = True
        if self._closed_output_message is not None:
            self._warn(self._closed_output_message)
        self.stop.set()

    def _on_signal(self, sig: int | None = None) -> None:
        self.count += 1
        if self.count == 1:
            self.signal_name = signal.Signals(sig).name if sig is not None else None
            self._warn(self._first_message)
            self.stop.set()
        elif self.count == 2:
            self._warn(
                f"still {self._doing}: interrupting now may LEAVE EXPOSURE OPEN. "
                "Press Ctrl+C a third time to abort anyway"
            )
        elif (open_now := self._open_now()) is None:
            self._abort(
                INTERRUPTED_EXIT_CODE, "aborted by the user: nothing is open (no order was sent, or every leg closed)"
            )
        else:
            self._abort(ABORT_EXIT_CODE, f"aborted by the user: {open_now}; run `hedgectl flatten --all`")

    def _abort(self, exit_code: int, message: str) -> None:
        # A live display (a table, a countdown) leaves the terminal's cursor at the end of its last line.
        sys.stderr.write(("\n" if sys.stdout.isatty() else "") + message + "\n")
        sys.stderr.flush()
        if self._on_abort is not None:
            try:
                self._on_abort(exit_code, message)
            except Exception as exc:  # noqa: BLE001 - recording the abort must never keep the process alive
                sys.stderr.write(f"(the abort could not be recorded in the journal: {type(exc).__name__}: {exc})\n")
        os._exit(exit_code)

    @property
    def watch_exit_code(self) -> int:
        """How a read-only watch (which ends only when stopped) exits: 141 when its output's reader went away,
        130 on Ctrl+C or SIGTERM."""
        return CLOSED_OUTPUT_EXIT_CODE if self.output_closed and self.count == 0 else INTERRUPTED_EXIT_CODE

    @property
    def requested(self) -> bool:
        return self.stop.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; return True if a stop was requested meanwhile."""
        return await wait_event(self.stop, seconds)

    async def unless_stopped(self, awaitable: Awaitable[T]) -> asyncio.Future[T] | None:
        """Await `awaitable` unless a stop is requested first: its finished task, or None (it was cancelled)."""
        task = asyncio.ensure_future(awaitable)
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            await stop_tasks([task], what="planning step")
        return task if task.done() and not task.cancelled() else None


def _is_pipe(fd: int) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False
