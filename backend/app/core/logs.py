"""Keeping the access token out of the server's logs.

uvicorn writes every request line (``uvicorn.access``) and every websocket handshake
(``uvicorn.error``) with its query string, so ``?token=...`` would land in the log in clear text.
:class:`RedactTokens` rewrites such values to ``token=[redacted]`` before any handler formats them.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error")
# "token" also percent-encoded letter by letter (the server decodes the key, so %74oken= works too)
_TOKEN_IN_QUERY = re.compile(r"([?&;](?:t|%74)(?:o|%6f)(?:k|%6b)(?:e|%65)(?:n|%6e)=)[^&;#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the value of every ``token=`` query parameter replaced by ``[redacted]``."""
    return _TOKEN_IN_QUERY.sub(rf"\g<1>{REDACTED}", text) if "=" in text else text


class RedactTokens(logging.Filter):
    """A logging filter that redacts ``token=`` query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


_FILTER = RedactTokens()


def redact_tokens_in_server_logs() -> None:
    """Attach the filter to uvicorn's loggers (idempotent; call after uvicorn configured logging)."""
    for name in LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
