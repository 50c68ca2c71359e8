"""The package's shape: no import cycle, and no module that holds two jobs (~400 lines)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hedgectl"

LINE_LIMIT = 420  # "~400": a module past this usually holds two jobs

# Modules allowed past the limit, each with the most lines it may have and why it is one job.
# An entry that no longer applies (the module shrank or went away) fails too, so the list stays true.
LONG_MODULES: dict[str, tuple[int, str]] = {}


# Cycles known when this test was written, each with why it is left; any other cycle fails.
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_hedgectl_has_no_import_cycle() -> None:
    graph = grimp.build_graph("hedgectl", exclude_type_checking_imports=False)
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back and frozenset((module, *back)) not in KNOWN_CYCLES:
                cycles.add(" -> ".join((module, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_no_module_is_over_the_line_limit_unless_listed_with_a_reason() -> None:
    too_long = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        limit = LONG_MODULES.get(name, (LINE_LIMIT, ""))[0]
        if _lines(path) > limit:
            too_long[name] = _lines(path)
    assert not too_long, f"modules over their limit (split them by job): {too_long}"


@pytest.mark.parametrize("name", sorted(LONG_MODULES))
def test_every_long_module_exception_still_applies(name: str) -> None:
    path = PACKAGE / name
    assert path.is_file(), f"{name} is gone: drop it from LONG_MODULES"
    assert _lines(path) > LINE_LIMIT, f"{name} is back under {LINE_LIMIT} lines: drop it from LONG_MODULES"


# What engine code may ask the journal without the Dispatcher: queries, never a write.
JOURNAL_READS = {
    "runs", "run", "orders", "order", "unacknowledged_orders", "fills", "run_fills", "run_funding",
    "breaker_trips", "last_breaker_reset", "events",
}  # fmt: skip
# Modules that keep journal state of their own (not an order's), each with why: none (breaker trips go through the
# Dispatcher too).
JOURNAL_OWNERS: dict[str, str] = {}


def _journal_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Calls of a method on something named `journal` (`journal.x(...)`, `self.dispatcher.journal.x(...)`)."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        if name == "journal":
            yield node.lineno, node.func.attr


def test_engine_code_writes_to_the_journal_only_through_the_dispatcher() -> None:
    dispatcher = PACKAGE / "engine" / "orders" / "dispatch.py"
    writes = [
        f"{path.relative_to(PACKAGE)}:{line} journal.{method}"
        for path in sorted((PACKAGE / "engine").rglob("*.py"))
        if path != dispatcher and path.relative_to(PACKAGE).as_posix() not in JOURNAL_OWNERS
        for line, method in _journal_calls(ast.parse(path.read_text(encoding="utf-8")))
        if method not in JOURNAL_READS
    ]
    assert not writes, "journal writes outside the Dispatcher:\n" + "\n".join(writes)


def test_the_journal_write_check_sees_a_write_through_the_dispatcher_attribute() -> None:
    tree = ast.parse("ctx.dispatcher.journal.record_order(cid, order)\njournal.runs(5)\n")
    assert list(_journal_calls(tree)) == [(1, "record_order"), (2, "runs")]


# Modules of engine/ and venues/ that still read time themselves, each with why.
READS_TIME_ITSELF: dict[str, str] = {}


def _direct_time_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """`time.<anything>`, `from time import ...`, `asyncio.sleep`, `datetime.now` (reads of time, or waits)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            yield node.lineno, "from time import"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner, attr = node.value.id, node.attr
            if owner == "time" or (owner, attr) in {("asyncio", "sleep"), ("datetime", "now")}:
                yield node.lineno, f"{owner}.{attr}"


def test_engine_and_venues_read_time_only_through_the_clock() -> None:
    found = [
        f"{name}:{line} {what}"
        for layer in ("engine", "venues")
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        if (name := path.relative_to(PACKAGE).as_posix()) not in READS_TIME_ITSELF
        for line, what in _direct_time_reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "time read outside hedgectl/clock.py:\n" + "\n".join(found)


def test_the_time_check_sees_each_kind_of_direct_read() -> None:
    source = "import time\nfrom time import sleep\ntime.monotonic()\nawait asyncio.sleep(1)\ndatetime.now(UTC)\n"
    tree = ast.parse(source.replace("await ", ""))
    assert [what for _, what in _direct_time_reads(tree)] == [
        "from time import",
        "time.monotonic",
        "asyncio.sleep",
        "datetime.now",
    ]


# Where engine code may read an order's state from a venue: the order tracker (and the Dispatcher under it,
# whose refresh/reconcile journal what they read). Anything else that re-reads an order is a second polling loop.
ORDER_READERS = ("engine/orders/",)


def _order_reads(tree: ast.AST) -> Iterator[int]:
    """Calls of `<anything>.fetch_order(...)`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fetch_order":
            yield node.lineno


def test_only_the_order_tracker_reads_orders_from_venues() -> None:
    found = [
        f"{name}:{line} fetch_order"
        for path in sorted((PACKAGE / "engine").rglob("*.py"))
        if not (name := path.relative_to(PACKAGE).as_posix()).startswith(ORDER_READERS)
        for line in _order_reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "order reads outside engine/orders/ (use the OrderTracker):\n" + "\n".join(found)


def test_the_order_read_check_sees_a_read_through_an_attribute() -> None:
    tree = ast.parse("await ctx.maker.fetch_order(symbol, order_id=oid)\nvenue.fetch_orders()\n".replace("await ", ""))
    assert list(_order_reads(tree)) == [1]
