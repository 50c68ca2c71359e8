"""One command at a time on a saved paper account: an advisory lock held for the embedded simulator's life.

Each command that has no HEDGECTL_SIM_URL runs its own simulator, loaded from the saved account and saved
back when it stops. Two at once would each trade their own copy, and the later save would silently drop
the other's orders. So the simulator that loads an account holds `<account>.lock` (flock: the kernel
releases it when the process dies, so a crash leaves no stale lock) until it has saved; a second command
waits a bounded time, saying so, then fails with one line naming the owner and the alternative (one
shared `hedgectl sim serve` with HEDGECTL_SIM_URL, which serialises nothing because it is one account).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hedgectl.errors import ConfigError

log = logging.getLogger("hedgectl.sim")

LOCK_WAIT_S = 10.0  # how long a second command waits for the paper account before giving up
POLL_S = 0.1


class AccountLock:
    """An exclusive lock on one paper account file (`acquire` waits at most `wait_s`; `release` is idempotent)."""

    def __init__(
        self,
        account: Path,
        *,
        wait_s: float = LOCK_WAIT_S,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = account.with_name(account.name + ".lock")
        self._wait_s = wait_s
        self._sleep = sleep
        self._monotonic = monotonic
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait_s` (with one visible message) for another command to finish."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = self._monotonic() + self._wait_s
            told = False
            while not self._try(fd):
                owner = _owner(fd)
                if self._monotonic() >= deadline:
                    raise ConfigError(
                        f"the paper account in {self.path.parent} is in use by another hedgectl command{owner}: "
                        "wait for it to end, or share one simulator (`hedgectl sim serve --state FILE` "
                        "and HEDGECTL_SIM_URL)"
                    )
                if not told:
                    log.warning(
                        "the paper account is in use by another hedgectl command%s: waiting up to %g s for it",
                        owner,
                        self._wait_s,
                    )
                    told = True
                self._sleep(POLL_S)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def holder(self) -> Holder | None:
        """Without taking it: None if the lock is free, else who holds it (and its simulator's URL, once said)."""
        if self._fd is not None or not self.path.exists():
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            if self._try(fd):
                fcntl.flock(fd, fcntl.LOCK_UN)
                return None
            return Holder(_owner(fd), _url(fd), _pid(fd))
        finally:
            os.close(fd)

    def announce(self, url: str) -> None:
        """Say where the holder's simulator serves, so that a read-only command can read the account live."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()} {url}\n".encode(), 0)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock

    @staticmethod
    def _try(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@dataclass(frozen=True)
class Holder:
    owner: str  # ' (pid N)', or '' if unreadable
    url: str | None  # the holder's simulator (loopback), once it serves
    pid: int | None = None  # as the holder wrote it, if readable


def _fields(fd: int) -> list[str]:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return os.pread(fd, 256, 0).decode().split()
    return []


def _pid(fd: int) -> int | None:
    fields = _fields(fd)
    with contextlib.suppress(ValueError, IndexError):
        pid = int(fields[0])
        if pid > 0:
            return pid
    return None


def _owner(fd: int) -> str:
    """' (pid N)' as the holder wrote it, or '' if it cannot be read."""
    pid = _pid(fd)
    return "" if pid is None else f" (pid {pid})"


def _url(fd: int) -> str | None:
    fields = _fields(fd)
    url = fields[1] if len(fields) > 1 else None
    return url if url is not None and url.startswith("http://127.0.0.1:") else None
