"""A warm parent for the tests' CLI processes: it imports hedgectl once, then forks one child per command.

Run by tests/forked_cli.py as `python cli_zygote.py FD`, FD one end of a SOCK_SEQPACKET socket pair. It answers
`{"ready": true}` once warm. Each request is a JSON object `{"id", "args", "env", "cwd"}` with three file
descriptors (the child's stdin, stdout and stderr); it forks, answers `{"pid", "id"}`, and later `{"exit": id,
"code"}` (a
`subprocess`-style return code: negative for a death by signal). The parent stays single-threaded and never runs
an event loop, so a fork is safe. The child is a real process: its own signals, its own exit; it runs
`hedgectl.cli.app.main()` exactly as the `hedgectl` script does, with the request's argv, environment and
directory, and ends the way any Python process ends (atexit, threads joined, streams flushed).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import threading
import traceback
from typing import Any

# What the commands import, loaded once here instead of in every process. A module missing here is only slower.
WARM = (
    "hedgectl.cli.app",
    # app no longer imports the command modules (lazy_group.py), nor an adapter its stream code: warm them here
    "hedgectl.cli.bootstrap_cmd",
    "hedgectl.cli.bp_aster_cmd",
    "hedgectl.cli.breaker_cmd",
    "hedgectl.cli.carry_cmd",
    "hedgectl.cli.connect_cmd",
    "hedgectl.cli.flatten_cmd",
    "hedgectl.cli.history_cmd",
    "hedgectl.cli.positions_cmd",
    "hedgectl.cli.prices_cmd",
    "hedgectl.cli.report_cmd",
    "hedgectl.cli.scan_cmd",
    "hedgectl.cli.sim_cmd",
    "hedgectl.venues.binance.stream",
    "hedgectl.venues.aster.stream",
    "hedgectl.cli.session",
    "hedgectl.cli.common",
    "hedgectl.cli.render",
    "hedgectl.cli.paper",
    "hedgectl.settings",
    "hedgectl.journal",
    "hedgectl.venues.registry",
    "hedgectl.venues.binance",
    "hedgectl.venues.okx",
    "hedgectl.venues.backpack",
    "hedgectl.venues.aster",
    "hedgectl.engine.bootstrap.cycle",
    "hedgectl.engine.flatten",
    "hedgectl.engine.carry.run",
    "hedgectl.engine.maker_taker.loop",
    "hedgectl.engine.survey",
    "hedgectl.sim.embedded",
    "hedgectl.sim.core",
    "hedgectl.sim.server",
)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.send(json.dumps(message).encode())


def serve(sock: socket.socket) -> dict[str, Any]:
    """Fork a child per request; return (in the child only) the request it is to run."""
    ids: dict[int, int] = {}  # pid -> the request's id: a pid is reused once reaped, an id never
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(sock, {"ready": True})
    while True:
        ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
        _reap(sock, ids)
        if sock.fileno() not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 3)
        if not message:  # the tests' process is gone
            os._exit(0)
        request: dict[str, Any] = json.loads(message)
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (wake_r, wake_w):
                os.close(fd)
            sock.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            return request
        for fd in fds:
            os.close(fd)
        ids[pid] = int(request["id"])
        _send(sock, {"pid": pid, "id": ids[pid]})


def _reap(sock: socket.socket, ids: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exit": ids.pop(pid, -1), "code": os.waitstatus_to_exitcode(status)})


def run_child(request: dict[str, Any]) -> None:
    """Become the command: the request's directory, environment, argv and standard streams; then the CLI."""
    import random

    random.seed()  # not the parent's sequence
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    encoding = sys.stdout.encoding
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115 - the process's own streams
    sys.stdout = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115 - line-buffered only on a tty
    sys.stderr = open(2, "w", encoding=encoding, errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    sys.argv = ["hedgectl", *request["args"]]
    from hedgectl.cli.app import main

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:  # as an interpreter does: the traceback, then death by SIGINT
        traceback.print_exc()
        _finish()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    except BaseException:  # noqa: BLE001 - as an interpreter does: the traceback, exit 1
        traceback.print_exc()
        code = 1
    _finish()
    # Skip the interpreter's finalization (freeing every module the parent imported: a quarter of a second a
    # process); what a process does at its end that a command can see is done by _finish.
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _finish() -> None:
    """What an interpreter does at exit that a command can see: non-daemon threads joined, atexit handlers run,
    the standard streams flushed."""
    threading._shutdown()  # type: ignore[attr-defined]  # the interpreter's own join of non-daemon threads
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


if __name__ == "__main__":
    control = socket.socket(fileno=int(sys.argv[1]))
    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    gc.freeze()  # the imported heap is shared with every child: a collection there must not copy its pages
    run_child(serve(control))
