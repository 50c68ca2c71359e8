"""Bad input: one line on stderr, exit 2, no traceback, nothing sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hedgectl.cli.app import app, main

runner = CliRunner()


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["bootstrap", "--notional", "-5"], "--notional must be a positive number"),
        (["bootstrap", "--notional", "0"], "--notional must be a positive number"),
        (["bootstrap", "--notional", "abc"], "'--notional': must be a number"),
        (["bootstrap", "--notional", "NaN"], "'--notional': must be a finite number"),
        (["bootstrap", "--long", "kraken"], "unknown venue 'kraken'"),
        (["bootstrap", "--long", "okx", "--short", "okx"], "two different venues"),
        (["bootstrap", "--symbol", "B$C"], "not a symbol"),
        (["bootstrap", "--hold", "-1"], "--hold must be between"),
        (["bootstrap", "--notional", "5000"], "exceeds the cap of 1000"),
        (["bootstrap", "--entry", "maker"], "--entry must be taker or maker-first"),
        (["bootstrap", "--entry", "maker-first", "--maker-timeout", "0"], "--maker-timeout must be above 0"),
        (["bootstrap", "--maker-timeout", "9999"], "at most 3600 seconds"),
        (["bootstrap", "--max-volatility-pct", "-0.5"], "--max-volatility-pct must be a positive number"),
        (["bootstrap", "--max-volatility-pct", "x"], "'--max-volatility-pct': must be a number"),
        (["bootstrap", "--volatility-minutes", "1"], "--volatility-minutes"),
        (["flatten"], "say which venues"),
        (["flatten", "--venue", "nope"], "unknown venue 'nope'"),
        (["flatten", "--all"], "needs --yes"),
        (["prices", "--symbol", ""], "symbol is empty"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(args, capsys)
    assert code == 2, err
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_bad_input_with_json_prints_one_json_error_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_main(["bootstrap", "--notional", "-1", "--json"], capsys)
    assert code == 2
    doc = json.loads(out)
    assert doc == {"ok": False, "error": doc["error"], "exit_code": 2}
    assert "--notional" in doc["error"]


def test_malformed_env_file_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".env").write_text("HEDGECTL_MODE=sideways\n")
    code, _, err = run_main(["connect"], capsys)
    assert code == 2
    assert err.startswith("error: invalid setting HEDGECTL_MODE")


def test_binary_env_file_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".env").write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run_main(["connect"], capsys)
    assert code == 2
    assert "Traceback" not in err


def test_missing_credentials_in_testnet_names_the_variables(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["--mode", "testnet", "bootstrap", "--yes"], capsys)
    assert code == 2
    assert "BINANCE_API_KEY BINANCE_API_SECRET" in err


def test_live_without_the_live_flag_exits_2_before_any_network(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["--mode", "live", "bootstrap"], capsys)
    assert code == 2
    assert "--live" in err


def test_live_without_a_terminal_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["--mode", "live", "bootstrap", "--live"], capsys)
    assert code == 2
    assert "needs --yes" in err


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("connect", "prices", "bootstrap", "flatten", "history", "sim"):
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("hedgectl ")


def test_help_does_not_import_ccxt_or_the_simulator() -> None:
    code = (
        "import sys\n"
        "from hedgectl.cli.app import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('ccxt', 'aiohttp', 'eth_account', 'pydantic')\n"
        "         or m.startswith('hedgectl.sim.') and m != 'hedgectl.sim.credentials']\n"
        "print('HEAVY:' + ','.join(sorted(heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_history_of_an_empty_journal_is_empty_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["history", "--json"], capsys)
    assert code == 0
    from hedgectl.cli.history_view import NET_INCLUDES

    assert json.loads(out) == {
        "ok": True,
        "net_pnl_includes": NET_INCLUDES,
        "runs": [],
        "totals": {
            "runs": 0,
            "since": None,
            "until": None,
            "net_pnl": "0",
            "net_pnl_runs": {"counted": 0, "of": 0},
            "net_pnl_partial": False,
            "fees": {},
            "funding": {},
            "volume": "0",
            "slippage": None,
            "cost_per_10k": None,
        },
    }


def test_history_show_of_an_unknown_run_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["history", "show", "nope"], capsys)
    assert code == 2
    assert "no run 'nope'" in err
