"""Secrets in URLs never reach the logs: feed tokens and ``?token=`` values are redacted."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bridge.web import access_log

TOKEN = "Zq3x_secret-feed-token-0123456789abcdefghijkl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/feeds/{TOKEN}.ics", "/feeds/<redacted>"),
        (f"/feeds/{TOKEN}.ics?x=1", "/feeds/<redacted>?x=1"),
        (f'"GET /feeds/{TOKEN}.ics HTTP/1.1" 200', '"GET /feeds/<redacted> HTTP/1.1" 200'),
        (
            f"https://book.example.org/feeds/{TOKEN}.ics",
            "https://book.example.org/feeds/<redacted>",
        ),
        (
            f"webcal://book.example.org/feeds/{TOKEN}.ics",
            "webcal://book.example.org/feeds/<redacted>",
        ),
        (f"/book/x?token={TOKEN}", "/book/x?token=<redacted>"),
        (f"/cb?x=s&manage_token={TOKEN}&a=b", "/cb?x=s&manage_token=<redacted>&a=b"),
        (
            f"/oauth/google/callback?state={TOKEN}&code=4/0Ab_x&scope=a+b",
            "/oauth/google/callback?state=<redacted>&code=<redacted>&scope=a+b",
        ),
        (f"/x?TOKEN={TOKEN}#top", "/x?TOKEN=<redacted>#top"),
        ("/api/v1/providers/demo/feeds/full/rotate", "/api/v1/providers/demo/feeds/full/rotate"),
        ("/api/v1/providers/demo/slots?service=1", "/api/v1/providers/demo/slots?service=1"),
    ],
)
def test_redact(text, expected):
    assert access_log.redact(text) == expected


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("uvicorn.access")
    filters = list(logger.filters)
    yield logger
    logger.filters[:] = filters


def test_the_installed_filter_redacts_uvicorns_access_lines(access_logger, caplog):
    access_log.install()
    access_log.install()  # idempotent

    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # uvicorn's own call: the path is an argument of the message.
        access_logger.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "GET", f"/feeds/{TOKEN}.ics", "1.1", 200
        )
        access_logger.info("%(path)s", {"path": f"/x?token={TOKEN}"})

    assert TOKEN not in caplog.text
    assert '"GET /feeds/<redacted> HTTP/1.1" 200' in caplog.text
    assert "/x?token=<redacted>" in caplog.text
    assert sum(isinstance(f, access_log.RedactSecrets) for f in access_logger.filters) == 1
    # The arguments keep their shape for formatters that use them.
    assert caplog.records[0].args == ("127.0.0.1:5555", "GET", "/feeds/<redacted>", "1.1", 200)
