"""Secrets never reach a log record, whoever logs them."""

from __future__ import annotations

import logging

import pytest

from ringcast.logs import SecretRedactor


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Action: Login\r\nSecret: hunter2\r\n", "Action: Login\r\nSecret: ***\r\n"),
        ("connect postgresql://rc:pw0rd@db/x failed", "connect postgresql://rc:***@db/x failed"),
        ("password=pw0rd host=db", "password=*** host=db"),
        ("the configured value is topsecret", "the configured value is ***"),
    ],
)
def test_redactor_masks_secret_values_and_fragments(message: str, expected: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (message,), None)
    assert SecretRedactor(["topsecret"]).filter(record)
    assert record.getMessage() == expected


def test_redactor_masks_tracebacks() -> None:
    try:
        raise RuntimeError("login failed for secret=topsecret")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    SecretRedactor(["topsecret"]).filter(record)
    assert "topsecret" not in (record.exc_text or "")
    assert "RuntimeError" in (record.exc_text or "")
