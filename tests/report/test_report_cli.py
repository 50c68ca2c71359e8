"""`hedgectl report` as a command: what it selects, where it writes, --json, --open, and bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from hedgectl.cli.app import main
from hedgectl.domain.types import Side
from hedgectl.journal import Journal
from tests.report.journal_rows import trade
from tests.report.page_checks import embedded_data, external_references, figures

D = Decimal


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from hedgectl.cli import render

    render.use_consoles(None, None)  # Rich's consoles bind to this test's captured stdout and stderr
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def two_runs(isolated_env: Path) -> list[str]:
    journal = Journal(isolated_env / "journal.sqlite")
    ids = []
    for net in ("-0.25", "0.75"):
        run_id = journal.start_run("bootstrap", "paper")
        trade(journal, run_id, "binance", Side.BUY, "0.01", "100000", "0.5")
        trade(journal, run_id, "okx", Side.SELL, "0.01", "100000", "0.5")
        journal.end_run(run_id, status="ok", exit_code=0, net_pnl=D(net), volume=D(2000))
        ids.append(run_id)
    journal.start_run("positions", "paper")  # read-only: never the default run, never in a period
    journal.start_run("bootstrap", "paper")  # refused before any order: no order, but a trading run
    journal.close()
    return ids


def test_without_arguments_it_reports_the_latest_run_that_placed_orders(
    two_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["report"], capsys)
    assert code == 0, err
    path = Path(f"hedgectl-report-{two_runs[1]}.html")
    assert str(path) in out
    page = path.read_text()
    assert [r["run"]["id"] for r in embedded_data(page)["runs"]] == [two_runs[1]]
    assert external_references(page) == []
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_several_runs_get_a_table_a_cumulative_chart_and_totals(
    two_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["report", *two_runs, "--out", "both.html"], capsys)
    assert code == 0, err
    page = Path("both.html").read_text()
    data = embedded_data(page)
    assert [r["run_id"] for r in data["summary"]["runs"]] == two_runs
    (cumulative,) = figures(page)["cumulative"]
    assert cumulative["data"][0]["y"] == [-0.25, 0.5]
    assert cumulative["data"][1]["y"] == [2000.0, 4000.0]
    for run_id in two_runs:
        assert f'id="run-{run_id}"' in page


def test_json_prints_the_data_the_page_embeds(two_runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["report", two_runs[0], "--json"], capsys)
    assert code == 0, err
    document = json.loads(out)
    assert document["out"] is None
    assert not list(Path().glob("*.html"))  # --json alone writes no page
    code, out, _ = run_main(["report", two_runs[0], "--json", "--out", "r.html"], capsys)
    assert code == 0
    with_page = json.loads(out)
    assert with_page["out"] == "r.html"
    embedded = embedded_data(Path("r.html").read_text())
    for doc in (document, with_page, embedded):
        doc.pop("generated_at")
        doc.pop("out", None)
    assert document == embedded == with_page


def test_open_hands_the_written_file_to_the_browser(two_runs: list[str], tmp_path: Path) -> None:
    seen = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {seen}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    done = subprocess.run(
        [sys.executable, "-m", "hedgectl", "report", two_runs[0], "--out", "r.html", "--open"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "BROWSER": f"{browser} %s"}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert seen.read_text().strip() == (Path.cwd() / "r.html").as_uri()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["report", "20990101-000000-abcdef"], "no run '20990101-000000-abcdef' in the journal"),
        (["report", "--since", "yesterday"], "--since 'yesterday' is not a date"),
        (["report", "--since", "2026-12-02", "--until", "2026-12-01"], "--until must be after --since"),
        (["report", "--since", "2099-01-01"], "no runs in the journal started in 2099-01-01"),
        (["report", "RUN", "--since", "2026-01-01"], "not both"),
        (["report", "--out", "missing/dir/r.html"], "cannot write the report to missing/dir/r.html"),
        (["report", "--out", "."], "cannot write the report to ."),
        (["report", "--json", "--open"], "--open needs a page"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    two_runs: list[str], args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_main(args, capsys)
    assert code == 2, err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not list(Path().glob("*.html"))
    assert not list(Path().glob(".hedgectl-report-*"))


def test_an_empty_journal_has_nothing_to_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["report"], capsys)
    assert code == 2
    assert "nothing to report" in err


def test_plotly_is_imported_only_to_write_a_page() -> None:
    code = (
        "import sys\n"
        "from hedgectl.cli.app import main\n"
        "for args in (['--help'], ['report', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('HEAVY:' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('plotly', 'narwhals'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_a_period_takes_every_run_in_it_even_one_without_orders(
    two_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["report", "--since", "2000-01-01", "--until", "2999-01-01", "--out", "all.html"], capsys)
    assert code == 0, err
    page = Path("all.html").read_text()
    runs = embedded_data(page)["runs"]
    assert [r["run"]["command"] for r in runs] == ["bootstrap", "bootstrap", "bootstrap"]  # not `positions`
    assert runs[2]["pnl"] == []
    assert runs[2]["totals"]["net"] == "0"
    assert "no fills and no funding recorded: nothing to chart." in page
