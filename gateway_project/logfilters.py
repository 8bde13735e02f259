"""Log filters: links that carry a secret (an invitation's token, a
password reset key) are logged without it."""

from __future__ import annotations

import logging
import re

# /invitations/<org>/<token>/ and allauth's /password/reset/key/<uid>-<key>/.
SECRET_PATHS = re.compile(
    r"(/invitations/[\w-]+/)[^/\s\"']+|(/password/reset/key/)[^/\s\"']+"
)


def _masked(text: str) -> str:
    return SECRET_PATHS.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)


class SecretPathFilter(logging.Filter):
    """Mask secret path segments in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _masked(a) if isinstance(a, str) else a for a in record.args
            )
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            record.request = _MaskedRequest(request)
        return True


class _MaskedRequest:
    """The request as a log record shows it, with its path masked."""

    def __init__(self, request: object) -> None:
        self._request = request

    def __getattr__(self, name: str) -> object:
        value = getattr(self._request, name)
        return (
            _masked(value)
            if name in ("path", "path_info") and isinstance(value, str)
            else value
        )

    def __str__(self) -> str:
        return _masked(str(self._request))

    def __repr__(self) -> str:
        return _masked(repr(self._request))


class QuietRefusals(logging.Filter):
    """A refused request (403, 404) is one line, not a traceback: only
    errors (500s) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True
