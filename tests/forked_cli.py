"""The real CLI in a real process, without paying the interpreter's start and hedgectl's imports each time.

Most of an e2e test's CPU was `python -m hedgectl` importing the same modules again (~0.5 s a command, hundreds
of commands a run). A warm parent (tests/cli_zygote.py, one per test process) imports hedgectl once and forks a
child per command; the child runs `hedgectl.cli.app.main()` as the `hedgectl` script does, with the test's
argv, environment and directory, its own pid, signals, pipes and exit code. `ForkedProcess` is what a test
sees: the part of `subprocess.Popen`'s interface the tests use.

`HEDGECTL_TEST_SPAWN=exec` runs every command as `python -m hedgectl` instead (what the suite did before; the
tests that check a fresh process's imports always do).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ZYGOTE = Path(__file__).with_name("cli_zygote.py")
READY_TIMEOUT_S = 120.0


def use_fork() -> bool:
    return os.environ.get("HEDGECTL_TEST_SPAWN", "fork") != "exec"


class _Zygote:
    """The warm parent and the thread that reads what it says (pids of new children, exit codes)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, str(ZYGOTE), str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl+C in the developer's terminal is for pytest, not for the parent
        )
        theirs.close()
        self.sock = ours
        self._send_lock = threading.Lock()
        self._pids: queue.Queue[int] = queue.Queue()
        self._exits: dict[int, int] = {}  # child id -> return code
        self._next_id = 0
        self._exited = threading.Condition()
        self._ready = threading.Event()
        threading.Thread(target=self._read, name="cli-zygote", daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT_S):
            raise RuntimeError("the CLI's warm parent did not start")

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                with self._exited:
                    self._exited.notify_all()
                return
            message = json.loads(data)
            if "ready" in message:
                self._ready.set()
            elif "pid" in message:
                self._pids.put(int(message["pid"]))  # requests are sent one at a time: this is the last one's
            else:
                with self._exited:
                    self._exits[int(message["exit"])] = int(message["code"])
                    self._exited.notify_all()

    def fork(self, args: list[str], env: dict[str, str], cwd: str, fds: list[int]) -> tuple[int, int]:
        """Start a child; its (pid, id): exits are reported by id (a pid is reused once its process is reaped)."""
        with self._send_lock:
            self._next_id += 1
            request = json.dumps({"id": self._next_id, "args": args, "env": env, "cwd": cwd}).encode()
            socket.send_fds(self.sock, [request], fds)
            return self._pids.get(timeout=60), self._next_id

    def exit_code(self, child: int, timeout: float | None) -> int | None:
        """The child's return code once it ended (waiting up to `timeout`; 0: do not wait), else None."""
        with self._exited:
            self._exited.wait_for(lambda: child in self._exits, timeout=timeout)
            return self._exits.get(child)

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_zygote: _Zygote | None = None
_zygote_lock = threading.Lock()


def _the_zygote() -> _Zygote:
    global _zygote
    with _zygote_lock:
        if _zygote is None or _zygote.proc.poll() is not None:
            _zygote = _Zygote()
            atexit.register(_zygote.close)
        return _zygote


class ForkedProcess:
    """A command forked from the warm parent, seen as a `subprocess.Popen` (text mode, stdout/stderr piped)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: str | None = None) -> None:
        self.args = ["hedgectl", *args]
        self.returncode: int | None = None
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        stdin = os.open(os.devnull, os.O_RDONLY)
        self._zygote = _the_zygote()
        try:
            self.pid, self._id = self._zygote.fork(list(args), env, cwd or os.getcwd(), [stdin, out_w, err_w])
        finally:
            for fd in (stdin, out_w, err_w):
                os.close(fd)
        self.stdin = None
        self.stdout = open(out_r, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed by communicate
        self.stderr = open(err_r, encoding="utf-8", errors="replace")  # noqa: SIM115
        self._collected: dict[str, list[str]] | None = None
        self._readers: list[threading.Thread] = []

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self._id, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self._id, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:
        """Read both pipes to their end and wait for the exit, as Popen.communicate does (callable again after a
        TimeoutExpired)."""
        if self._collected is None:
            self._collected = {"out": [], "err": []}
            self._readers = [
                threading.Thread(target=self._drain, args=(stream, self._collected[key]), daemon=True)
                for key, stream in (("out", self.stdout), ("err", self.stderr))
            ]
            for reader in self._readers:
                reader.start()
        deadline = None if timeout is None else _now() + timeout
        for reader in self._readers:
            reader.join(None if deadline is None else max(0.0, deadline - _now()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        self.wait(None if deadline is None else max(0.0, deadline - _now()))
        for stream in (self.stdout, self.stderr):
            stream.close()
        return "".join(self._collected["out"]), "".join(self._collected["err"])

    @staticmethod
    def _drain(stream: Any, into: list[str]) -> None:
        try:
            os.set_blocking(stream.fileno(), True)  # a test may have read it non-blocking so far
            for chunk in iter(lambda: stream.read(1 << 16), ""):
                into.append(chunk)
        except (OSError, ValueError):
            pass


def _now() -> float:
    import time

    return time.monotonic()


def run(
    args: list[str], env: dict[str, str], timeout: float, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(..., capture_output=True, text=True)` of the CLI, forked warm."""
    proc = ForkedProcess(args, env, cwd)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode or 0, out, err)
