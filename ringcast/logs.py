"""Logging set-up: a rotating file in the data dir, stderr when verbose, and secret redaction.

`SecretRedactor` is installed on every handler: it replaces each known secret value and
any `Secret: ...` / `password=...` fragment (AMI login, DB URLs) before a record is
written, so secrets never reach a log file even from third-party libraries.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable

from ringcast.settings import Settings

_SECRET_PATTERNS = (
    re.compile(r"(?i)(secret\s*[:=]\s*)([^\s,'\"}]+)"),
    re.compile(r"(?i)(password\s*[:=]\s*)([^\s,'\"}]+)"),
    re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)"),
)


class SecretRedactor(logging.Filter):
    """Rewrites a record's message so that no secret value appears in it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + "***" + (m.group(3) if m.lastindex == 3 else ""), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def known_secrets(settings: Settings) -> list[str]:
    secrets = []
    if settings.ami.secret is not None:
        secrets.append(settings.ami.secret.get_secret_value())
    if settings.database.url is not None:
        from sqlalchemy.engine import make_url

        try:
            password = make_url(settings.database.url.get_secret_value()).password
        except Exception:
            password = None
        if password:
            secrets.append(str(password))
    return secrets


def configure_logging(settings: Settings, *, verbose: bool = False) -> None:
    """Log to `data_dir/ringcast.log` (rotated), and to stderr when verbose."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_ringcast", False):
            root.removeHandler(handler)
            handler.close()
    redactor = SecretRedactor(known_secrets(settings))
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                settings.data_dir / "ringcast.log", maxBytes=10_000_000, backupCount=5, encoding="utf-8"
            )
        )
    except OSError:
        pass  # read-only home: stderr only
    if verbose:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.addFilter(redactor)
        handler.setFormatter(formatter)
        handler._ringcast = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else settings.log_level.upper())
