"""carry --notify: a URL that is not one is refused with what a valid one looks like, never echoing it."""

from __future__ import annotations

import pytest

from hedgectl.engine.carry.notify import check_url
from hedgectl.errors import UsageError


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("notaurl-secret-token", "does not start with http:// or https://"),
        ("https://", "has no host after https://"),
        ("ftp://files.example/secret-token", "starts with ftp: instead"),
    ],
)
def test_a_bad_notify_url_is_refused_with_an_example_and_without_echoing_it(url: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_url(url)
    text = str(refused.value)
    assert says in text
    assert "such as https://" in text
    assert "secret-token" not in text
    assert "?://" not in text


def test_an_http_url_with_a_host_is_taken() -> None:
    assert check_url("https://hooks.example.com/x") == "https://hooks.example.com/x"
