"""The browser check itself: it must see what it is there to catch, or the report's test could not fail."""

from __future__ import annotations

from pathlib import Path

from tests.report.browser import load_page


def test_the_check_sees_console_errors_exceptions_and_any_request_to_the_network(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
        '<img src="http://example.invalid/pixel.png">'
        '<script>console.error("boom"); undefinedFunction();</script></body></html>'
    )

    load = load_page(page)

    assert "console.error: boom" in load.errors
    assert any("undefinedFunction" in e for e in load.errors)
    assert "http://example.invalid/pixel.png" in load.requests
