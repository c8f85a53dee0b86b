"""Logging set-up: one handler on the root logger, secrets redacted from every record.

The desk's own log lines carry ids, kinds and outcomes, never message texts or names. Two
sources could still leak: the bot token (httpx and PTB put it in request URLs, PTB's DEBUG
lines dump whole updates and requests), so the libraries' chatty loggers are held at INFO or
above, and a filter on the handler replaces each secret wherever it appears (message,
arguments, traceback) whatever the level.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO

REDACTED = "[redacted]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose DEBUG lines hold whole updates, request bodies or URLs with the token.
QUIET = {"telegram": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.INFO}
QUIET_ALWAYS = {"transitions": logging.WARNING}  # a line per callback per update


class RedactSecrets(logging.Filter):
    """Replace each secret in a record's message and traceback before any handler writes it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def configure(level: str | int, secrets: Iterable[str], stream: IO[str] | None = None) -> None:
    """Log to `stream` (default stderr) at `level`, with `secrets` redacted."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    numeric = logging.getLevelNamesMapping()[level.upper()] if isinstance(level, str) else level
    root.setLevel(numeric)
    for name, least in QUIET.items():
        logging.getLogger(name).setLevel(max(least, numeric))
    for name, least in QUIET_ALWAYS.items():
        logging.getLogger(name).setLevel(least)
