"""The tests' own shape: nothing under tests/ sleeps for a fixed time outside tests/waiting.py.

A test waits for what it means (an event, a condition polled with a bound, a fake clock moved forward);
see tests/waiting.py for the choices. A file that must sleep anyway is listed in SLEEPS_ALLOWED with the
reason, like test_architecture.py's LONG_MODULES.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent

# path (relative to tests/) -> why it may sleep
SLEEPS_ALLOWED: dict[str, str] = {
    "waiting.py": "the one waiting helper: its polls sleep between looks at the condition",
    "reliability/test_signals.py": (
        "the moment a signal is sent is the test's random input (drawn from a seeded rng), not a wait for something"
    ),
    "venues/test_stream_supervisor.py": (
        "checks that no REST poll happens while the stream is up over several real poll intervals: the "
        "supervisor's poller waits on aio.wait_event(up, poll_interval_s), not on the injected clock, so no "
        "fake clock can stand in (product change: route that wait through the clock)"
    ),
}


def _sleeps(source: str) -> list[int]:
    """Line numbers of `time.sleep(...)`, `asyncio.sleep(...)` and of importing either `sleep` by name."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "asyncio"):
            lines += [node.lineno for alias in node.names if alias.name == "sleep"]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "sleep"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("time", "asyncio")
        ):
            lines.append(node.lineno)
    return sorted(lines)


def _sleeping_files() -> dict[str, list[int]]:
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        lines = _sleeps(path.read_text())
        if lines:
            found[path.relative_to(TESTS).as_posix()] = lines
    return found


def test_the_sleep_finder_sees_every_spelling() -> None:
    source = (
        "import asyncio, time\nfrom time import sleep\nfrom asyncio import sleep as nap\n"
        "time.sleep(1)\nawait asyncio.sleep(0)\nclock.sleep(3)\nawait self.clock.sleep(2)\n"
    )
    assert _sleeps(source) == [2, 3, 4, 5]


def test_no_test_sleeps_outside_the_waiting_helper() -> None:
    found = _sleeping_files()
    bare = {f"{path}:{line}" for path, lines in found.items() if path not in SLEEPS_ALLOWED for line in lines}
    assert not bare, (
        "wait for the thing itself (tests/waiting.py: eventually, an event, FakeClock, loop_turns) instead of "
        f"sleeping: {sorted(bare)}"
    )


def test_every_allowed_sleeper_still_sleeps() -> None:
    found = _sleeping_files()
    stale = [path for path in SLEEPS_ALLOWED if path not in found]
    assert not stale, f"no longer sleeps (or is gone): remove it from SLEEPS_ALLOWED: {stale}"
