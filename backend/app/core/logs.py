"""Keeping the access token out of the server's logs.

uvicorn writes every request line (``uvicorn.access``) and every websocket handshake
(``uvicorn.error``) with its query string, and at ``--log-level debug`` the websockets library
writes every handshake header (``< authorization: Bearer ...``, ``< cookie: ...``) as separate
arguments, so a token could land in the log in clear text by several routes. :class:`RedactTokens`
formats each record's message, rewrites ``token=`` query values, ``Bearer`` credentials and the
values of the ``authorization``, ``x-access-token`` and ``cookie`` headers to ``[redacted]``, and
runs on every handler of the server's loggers, so no line escapes it whatever logger wrote it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "websockets")
# "token" also percent-encoded letter by letter (the server decodes the key, so %74oken= works too)
_TOKEN_IN_QUERY = re.compile(r"([?&;](?:t|%74)(?:o|%6f)(?:k|%6b)(?:e|%65)(?:n|%6e)=)[^&;#\s\"']*", re.IGNORECASE)
_SECRET_HEADER = re.compile(r"((?:authorization|proxy-authorization|x-access-token|cookie|set-cookie)\s*[:=]\s*)[^\r\n]*", re.I)
_BEARER = re.compile(r"(\bbearer\s+)[^\s\"',;]+", re.IGNORECASE)
_HINTS = ("=", "bearer", "authorization", "token", "cookie")


def redact(text: str) -> str:
    """``text`` with every ``token=`` query value, ``Bearer`` credential and secret header value
    replaced by ``[redacted]``."""
    lowered = text.lower()
    if not any(h in lowered for h in _HINTS):
        return text
    text = _SECRET_HEADER.sub(rf"\g<1>{REDACTED}", text)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    return _TOKEN_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """A logging filter that redacts credentials in a record's formatted message.

    Each string argument is redacted in place (formatters such as uvicorn's access formatter read
    the arguments); where a secret is still visible once the message is formatted (a header name
    and its value given as separate arguments), the record carries the redacted text and no args.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned == message:
            return True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        try:
            still = redact(record.getMessage()) != record.getMessage()
        except Exception:
            still = True
        if still:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactTokens()


def redact_tokens_in_server_logs() -> None:
    """Attach the filter to the server's loggers and to each of their handlers (idempotent; call
    after uvicorn configured logging): a handler's filter also sees records of child loggers."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addFilter(_FILTER)
        for handler in logger.handlers:
            handler.addFilter(_FILTER)
