"""The fault matrix: command x phase x fault kind x venue, each scenario a real CLI process against a simulator.

A scenario arms one fault (at once, or when the command reaches its phase), runs the command to its end and
then judges it from the simulator and the journal: every venue flat with no order left resting, the
documented exit code, no client order id that took effect twice or carried two intents, and no order the
simulator saw that the journal does not hold. `bench/fault_matrix.py` runs every scenario; the pytest suite
runs a covering subset (`representative`).

Bootstrap and flatten also run on accounts in hedge mode (`-hedge` ids): Binance/Aster dualSidePosition and
OKX long_short_mode set through POST /_sim/account (Backpack has one-way only); flatten's scene then holds
both a long and a short on each of those venues.

Phases: bootstrap open (1st create_order of the venue), hold (any request once both legs are open), close
(2nd create_order); flatten read (fetch_positions), close (create_order); bp-aster loop rest (maker
create_order), cancel (maker cancel of a re-quote), hedge (taker create_order), close (the exit flatten
after Ctrl+C with both legs open); carry open (1st create_order of the venue), hold (any request once both
legs are open and watched), close (2nd create_order: the close at --until, through flatten).
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from reliability.rig import Rig, audit, rig, stop

KINDS = ("reject", "http_500", "rate_limit", "timeout", "accept_then_timeout", "partial_fill", "disconnect")
BOOTSTRAP_PAIRS = (("binance", "okx"), ("backpack", "aster"))
LOOP_PAIR = ("backpack", "aster")
ALL_FOUR = {"binance": "buy", "okx": "sell", "backpack": "buy", "aster": "sell"}
HEDGE_MODE_VENUES = ("binance", "okx", "aster")
MODES = ("one_way", "hedge")
MODAL_COMMANDS = ("bootstrap", "flatten")  # the commands the matrix runs in both position modes
COMMAND_TIMEOUT_S = 120.0
POLL_S = 0.02
# What a venue is asked for a quote (the hold phase's price updates).
QUOTE_OPS = frozenset({"fetch_order_book", "fetch_bids_asks", "fetch_ticker", "fetch_funding_rate", "fetch_mark_price"})

# Exit codes the documentation promises: 0 done and flat, 1 failed but flat, 3 exposure, 130 interrupted.
DONE, FAILED, EXPOSURE, INTERRUPTED = 0, 1, 3, 130


@dataclass(frozen=True)
class Scenario:
    command: str  # bootstrap | flatten | loop | carry
    phase: str
    kind: str
    venue: str  # the venue the fault hits
    pair: tuple[str, ...] = ()  # bootstrap: long, short; loop: maker, taker; flatten: venues holding positions
    position_mode: str = "one_way"  # or "hedge": the accounts of HEDGE_MODE_VENUES in hedge/long-short mode

    @property
    def id(self) -> str:
        pair = f"[{'-'.join(self.pair)}]" if self.command in ("bootstrap", "carry") else ""
        mode = "-hedge" if self.position_mode == "hedge" else ""
        return f"{self.command}{pair}-{self.phase}-{self.kind}-{self.venue}{mode}"

    @property
    def hedge_venues(self) -> tuple[str, ...]:
        """The venues whose accounts this scenario puts in hedge mode (none in one-way scenarios)."""
        if self.position_mode != "hedge":
            return ()
        involved = ALL_FOUR if self.command == "flatten" else self.pair
        return tuple(v for v in involved if v in HEDGE_MODE_VENUES)

    def argv(self) -> list[str]:
        if self.command == "bootstrap":
            long, short = self.pair
            hold = "1" if self.phase == "hold" else "0"
            return ["bootstrap", "--notional", "300", "--hold", hold, "--long", long, "--short", short,
                    "--max-slippage-bps", "50", "--json"]
        if self.command == "flatten":
            return ["flatten", "--all", "--yes", "--json", "--rounds", "5"]
        if self.command == "carry":
            long, short = self.pair
            until = "2s" if self.phase == "hold" else "1s"
            return ["carry", "--notional", "300", "--until", until, "--long", long, "--short", short,
                    "--max-slippage-bps", "50", "--refresh-s", "0.2", "--json"]
        maker, taker = self.pair
        between = "30" if self.phase == "close" else "0"
        return ["bp-aster", "loop", "--maker", maker, "--taker", taker, "--cycles", "1", "--qty", "10",
                "--requote-after", "0.3", "--between-legs", between, "--cycle-sleep", "0",
                "--stop-before-funding", "0", "--json", "--yes"]

    def expected_exit(self) -> frozenset[int]:
        """The documented exit code for this scenario."""
        if self.command == "loop" and self.phase == "close":
            return frozenset({INTERRUPTED})
        if self.command == "loop" and self.phase == "rest" and self.kind == "reject":
            # Backpack's rejection of the maker order is its insufficient-margin reply: the loop stops, flat.
            return frozenset({FAILED})
        if self.command in ("bootstrap", "carry") and self.phase == "open":
            # The order never took effect, or only partly: the other leg is rolled back, exit 1 flat.
            # Placed but unanswered: found by client id, a normal leg.
            return frozenset({DONE}) if self.kind == "accept_then_timeout" else frozenset({FAILED})
        return frozenset({DONE})

    def fault(self) -> dict[str, Any]:
        op = {
            ("bootstrap", "open"): "create_order",
            ("bootstrap", "hold"): "any",
            ("bootstrap", "close"): "create_order",
            ("carry", "open"): "create_order",
            ("carry", "hold"): "any",
            ("carry", "close"): "create_order",
            ("flatten", "read"): "fetch_positions",
            ("flatten", "close"): "create_order",
            ("loop", "rest"): "create_order",
            ("loop", "cancel"): "cancel_order",
            ("loop", "hedge"): "create_order",
            ("loop", "close"): "create_order",
        }[(self.command, self.phase)]
        body: dict[str, Any] = {"venue": self.venue, "op": op, "kind": self.kind, "count": 1}
        if self.command in ("bootstrap", "carry") and self.phase == "close":
            body["after"] = 1  # the close is the venue's second create_order
        return body


def all_scenarios(commands: Sequence[str] = ("bootstrap", "flatten", "loop", "carry")) -> list[Scenario]:
    """The full matrix. Adding a command is one entry in `_PHASES`."""
    out: list[Scenario] = []
    for command in commands:
        modes = MODES if command in MODAL_COMMANDS else MODES[:1]
        for mode in modes:
            for phase, pairs, venues_of in _PHASES[command]:
                for pair in pairs:
                    for venue in venues_of(pair):
                        out.extend(Scenario(command, phase, kind, venue, pair, mode) for kind in KINDS)
    return out


def _both(pair: tuple[str, ...]) -> tuple[str, ...]:
    return pair


def _maker(pair: tuple[str, ...]) -> tuple[str, ...]:
    return pair[:1]


def _taker(pair: tuple[str, ...]) -> tuple[str, ...]:
    return pair[1:]


_FLATTEN_PAIR = tuple(ALL_FOUR)
_PHASES: dict[str, list[tuple[str, tuple[tuple[str, ...], ...], Any]]] = {
    "bootstrap": [(phase, BOOTSTRAP_PAIRS, _both) for phase in ("open", "hold", "close")],
    "carry": [(phase, BOOTSTRAP_PAIRS, _both) for phase in ("open", "hold", "close")],
    "flatten": [(phase, (_FLATTEN_PAIR,), _both) for phase in ("read", "close")],
    "loop": [
        ("rest", (LOOP_PAIR,), _maker),
        ("cancel", (LOOP_PAIR,), _maker),
        ("hedge", (LOOP_PAIR,), _taker),
        ("close", (LOOP_PAIR,), _both),
    ],
}


# The phases the CI subset also runs on hedge-mode accounts: where the position side of an order matters.
HEDGE_CI_PHASES = frozenset({("bootstrap", "open"), ("bootstrap", "close"), ("flatten", "close")})


def representative(scenarios: Iterable[Scenario]) -> list[Scenario]:
    """A small subset covering every (command, phase), every fault kind and every venue at least once (one-way
    accounts), plus a few hedge-mode scenarios: the HEDGE_CI_PHASES and each hedge-mode venue once."""
    pool = list(scenarios)
    one_way = _cover([s for s in pool if s.position_mode == "one_way"], _features)
    return one_way + _cover([s for s in pool if s.position_mode == "hedge"], _hedge_features)


def _cover(pool: list[Scenario], features_of: Any) -> list[Scenario]:
    need: set[tuple[str, ...]] = set()
    for s in pool:
        need |= features_of(s)
    chosen: list[Scenario] = []
    while need:
        best = max(pool, key=lambda s: len(features_of(s) & need))
        gained = features_of(best) & need
        if not gained:
            break
        chosen.append(best)
        need -= gained
    return chosen


def _features(s: Scenario) -> set[tuple[str, ...]]:
    return {("phase", s.command, s.phase), ("kind", s.kind), ("venue", s.venue)}


def _hedge_features(s: Scenario) -> set[tuple[str, ...]]:
    features: set[tuple[str, ...]] = set()
    if (s.command, s.phase) in HEDGE_CI_PHASES:
        features.add(("phase", s.command, s.phase))
        if s.venue in HEDGE_MODE_VENUES:
            features.add(("venue", s.venue))
    return features


# -- running one scenario --------------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: Scenario
    exit_code: int | None = None
    flat: bool = False
    duplicates: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stderr_tail: str = ""

    @property
    def exit_ok(self) -> bool:
        return self.exit_code in self.scenario.expected_exit()

    @property
    def ok(self) -> bool:
        return self.flat and self.exit_ok and not self.duplicates and not self.gaps and not self.problems

    def describe(self) -> str:
        bits = []
        if not self.flat:
            bits.append("NOT FLAT")
        if not self.exit_ok:
            bits.append(f"exit {self.exit_code}, expected {sorted(self.scenario.expected_exit())}")
        bits += [f"duplicate {d}" for d in self.duplicates] + [f"journal gap {g}" for g in self.gaps]
        bits += self.problems
        return f"{self.scenario.id}: " + ("; ".join(bits) or "ok") + (
            f"\n    stderr: {self.stderr_tail}" if bits and self.stderr_tail else ""
        )


def run_scenario(scenario: Scenario, workdir: Path | None = None) -> Outcome:
    """Set the scene, arm the fault, run the command as a real process, judge the end state."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="hedgectl-matrix-") as tmp:
            return run_scenario(scenario, Path(tmp))
    started = time.monotonic()
    with rig(workdir) as r:
        outcome = _run(r, scenario)
    outcome.seconds = time.monotonic() - started
    return outcome


def _run(r: Rig, s: Scenario) -> Outcome:
    outcome = Outcome(scenario=s)
    for venue in s.hedge_venues:
        r.post("/_sim/account", {"venue": venue, "position_mode": "hedge"})
    if s.command == "flatten":
        r.open_positions(ALL_FOUR)
        if s.hedge_venues:  # a hedge-mode account holds both sides: the opposite one too
            r.open_positions({v: "sell" if ALL_FOUR[v] == "buy" else "buy" for v in s.hedge_venues})
        r.clear_requests()  # the scene's own orders went straight through the adapters, not the journal
    driver = _Driver(r, s)
    if driver.arm_at_start:
        r.fault(**s.fault())
    proc = r.spawn(*s.argv())
    watcher = threading.Thread(target=driver.watch, args=(proc,), daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(proc)
        out, err = proc.communicate()
        outcome.problems.append(f"still running after {COMMAND_TIMEOUT_S:g} s (killed)")
    driver.done.set()
    watcher.join(timeout=10)
    outcome.exit_code = proc.returncode
    outcome.stderr_tail = " | ".join(err.strip().splitlines()[-3:])
    outcome.problems += driver.problems + _output_problems(s, out, err, proc.returncode)
    state = r.state()
    outcome.flat = not r.exposure(state) and not r.resting(state)
    ledger = audit(r.requests(), r.journal_orders())
    outcome.duplicates, outcome.gaps = ledger.duplicates, ledger.gaps
    if not driver.fired and not driver.arm_at_start:
        outcome.problems.append("the phase was never reached: the fault was not armed")
    return outcome


def _output_problems(s: Scenario, out: str, err: str, code: int | None) -> list[str]:
    problems = []
    if "Traceback" in err or "Traceback" in out:
        problems.append("a traceback was printed")
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        docs = [json.loads(line) for line in lines]
    except ValueError:
        return [*problems, "stdout is not JSON"]
    if not docs:
        return [*problems, "no JSON document on stdout"]
    last = docs[-1]
    if "exit_code" in last and last["exit_code"] != code:
        problems.append(f"the document says exit {last['exit_code']}, the process exited {code}")
    if s.command not in ("loop", "carry") and len(docs) != 1:
        problems.append(f"{len(docs)} JSON documents on stdout, expected 1")
    if s.command == "bootstrap":
        problems += pnl_problems(last)
    return problems


# Aster rounds each fill's commission and the wallet balance to 8 places separately: a few 1e-8 apart.
PNL_ROUNDING = Decimal("0.000001")


def pnl_problems(doc: dict[str, Any]) -> list[str]:
    """Each venue's reported net PnL must be the money that moved on its account (paper: no funding), to the
    venue's own rounding."""
    problems = []
    before, after = doc.get("balances_before") or {}, doc.get("balances_after") or {}
    for venue, pnl in (doc.get("pnl") or {}).items():
        if not isinstance(pnl, dict) or venue not in before or venue not in after:
            continue
        moved = sum((Decimal(v) for v in after[venue].values()), Decimal(0)) - sum(
            (Decimal(v) for v in before[venue].values()), Decimal(0)
        )
        if abs(Decimal(pnl["net"]) - moved) > PNL_ROUNDING:
            problems.append(f"{venue}: reported net PnL {pnl['net']} but the account moved {moved}")
    return problems


class _Driver:
    """Arms the fault when the command reaches its phase, fills maker orders for the loop, sends Ctrl+C."""

    def __init__(self, r: Rig, s: Scenario) -> None:
        self.r, self.s = r, s
        self.done = threading.Event()
        self.fired = False
        self.problems: list[str] = []
        self.arm_at_start = not (s.command in ("bootstrap", "carry") and s.phase == "hold") and not (
            s.command == "loop" and s.phase == "close"
        )

    def watch(self, proc: subprocess.Popen[str]) -> None:
        try:
            while not self.done.is_set() and proc.poll() is None:
                self._step(proc)
                self.done.wait(POLL_S)
        except Exception as exc:  # noqa: BLE001 - a driver failure is reported with the scenario
            if proc.poll() is None:
                self.problems.append(f"driver: {type(exc).__name__}: {exc}")

    def _step(self, proc: subprocess.Popen[str]) -> None:
        s, r = self.s, self.r
        if s.command in ("bootstrap", "carry") and s.phase == "hold" and not self.fired and self._holding():
            r.fault(**s.fault())
            self.fired = True
        if s.command != "loop":
            return
        maker = s.pair[0]
        state = r.state()
        if s.phase == "close" and not self.fired:
            exposure = r.exposure(state)
            if maker in exposure and s.pair[1] in exposure:
                r.fault(**s.fault())
                proc.send_signal(signal.SIGINT)
                self.fired = True
                return
        if state[maker]["open_orders"] and self._may_fill():
            r.post("/_sim/fill", {"venue": maker, "all": True})

    def _holding(self) -> bool:
        """Both legs are open and the hold has started: the faulted venue was asked for a quote since."""
        requests = self.r.requests()
        creates = [i for i, q in enumerate(requests) if q["op"] == "create_order" and q.get("status") == 200]
        if len(creates) < 2:
            return False
        return any(q["venue"] == self.s.venue and q["op"] in QUOTE_OPS for q in requests[creates[1] + 1 :])

    def _may_fill(self) -> bool:
        """The loop's maker orders rest until we fill them; the cancel phase needs one re-quote first."""
        if self.s.phase == "close" and self.fired:
            return False
        if self.s.phase != "cancel":
            return True
        return any(q["venue"] == self.s.venue for q in self.r.requests("cancel_order"))


# -- the table ------------------------------------------------------------------------------------------


def table(outcomes: Sequence[Outcome]) -> str:
    """scenarios run / ended flat / exit as documented / duplicates / journal gaps, per command and phase."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        phase = o.scenario.phase + ("/hedge" if o.scenario.position_mode == "hedge" else "")
        groups.setdefault((o.scenario.command, phase), []).append(o)
    header = (
        f"{'command':<10} {'phase':<12} {'run':>5} {'flat':>5} {'exit ok':>8} {'dups':>5} {'gaps':>5} {'failed':>7}"
    )
    rows = [header, "-" * len(header)]

    def row(name: str, phase: str, group: Sequence[Outcome]) -> str:
        return (
            f"{name:<10} {phase:<12} {len(group):>5} {sum(o.flat for o in group):>5} "
            f"{sum(o.exit_ok for o in group):>8} {sum(len(o.duplicates) for o in group):>5} "
            f"{sum(len(o.gaps) for o in group):>5} {sum(not o.ok for o in group):>7}"
        )

    for (command, phase), group in groups.items():
        rows.append(row(command, phase, group))
    rows.append("-" * len(header))
    rows.append(row("total", "", outcomes))
    return "\n".join(rows)
