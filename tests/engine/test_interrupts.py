"""The third Ctrl+C: its exit code follows what may be open, and the abort is recorded before the exit."""

from __future__ import annotations

import pytest

from hedgectl.engine import interrupts as interrupts_module
from hedgectl.engine.interrupts import Interrupts


class Exited(Exception):
    pass


def _press_three_times(monkeypatch: pytest.MonkeyPatch, open_now: str | None) -> tuple[int, list[tuple[int, str]]]:
    recorded: list[tuple[int, str]] = []

    def fake_exit(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(interrupts_module.os, "_exit", fake_exit)
    interrupts = Interrupts(lambda _m: None, open_now=lambda: open_now, on_abort=lambda c, m: recorded.append((c, m)))
    interrupts._on_signal()
    interrupts._on_signal()
    assert recorded == []  # the first two presses never abort
    with pytest.raises(Exited) as exited:
        interrupts._on_signal()
    return int(exited.value.args[0]), recorded


def test_nothing_open_exits_130_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, recorded = _press_three_times(monkeypatch, None)
    assert code == 130
    assert recorded == [(130, "aborted by the user: nothing is open (no order was sent, or every leg closed)")]
    assert "nothing is open" in capsys.readouterr().err


def test_something_open_exits_3_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    code, recorded = _press_three_times(monkeypatch, "open per the journal: okx BTC -0.003")
    assert code == 3
    assert recorded == [(3, "aborted by the user: open per the journal: okx BTC -0.003; run `hedgectl flatten --all`")]


def test_a_failing_record_still_exits(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(interrupts_module.os, "_exit", lambda code: (_ for _ in ()).throw(Exited(code)))

    def broken(_code: int, _message: str) -> None:
        raise OSError("disk full")

    interrupts = Interrupts(lambda _m: None, open_now=lambda: None, on_abort=broken)
    interrupts._on_signal()
    interrupts._on_signal()
    with pytest.raises(Exited):
        interrupts._on_signal()
    assert "could not be recorded in the journal: OSError: disk full" in capsys.readouterr().err


def test_a_vanished_output_reader_stops_once_without_counting_as_a_press() -> None:
    said: list[str] = []
    interrupts = Interrupts(said.append, first_message="first", closed_output_message="gone")
    interrupts.stop_for_closed_output()
    interrupts.stop_for_closed_output()  # stdout and stderr both gone: still one stop
    assert interrupts.requested
    assert said == ["gone"]
    assert interrupts.watch_exit_code == 141
    interrupts._on_signal()  # `cmd | tee log` and one Ctrl+C: tee ends too, and this is still the first press
    assert said == ["gone", "first"]
    assert interrupts.watch_exit_code == 130


def test_a_ctrl_c_first_keeps_the_watch_exit_130_when_the_reader_goes_too() -> None:
    interrupts = Interrupts(lambda _m: None)
    interrupts._on_signal()
    interrupts.stop_for_closed_output()  # the shell's Ctrl+C ended `head` as well
    assert interrupts.watch_exit_code == 130


def test_on_a_terminal_the_abort_starts_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(interrupts_module.sys.stdout, "isatty", lambda: True)  # a live table's cursor mid-line
    _press_three_times(monkeypatch, None)
    assert capsys.readouterr().err.startswith("\naborted by the user")
