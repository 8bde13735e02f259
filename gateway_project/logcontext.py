"""The request a log line belongs to: its id and, on ``/v1``, whose key made it.

Bound once per request (by the proxy, and by ``RequestIdMiddleware`` for the
site) in a context variable, so every line logged while serving the request
carries them without being handed it. Background tasks clear it: they serve
no one request.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass

from gateway_project.logfilters import looks_secret


@dataclass(slots=True)
class LogContext:
    request_id: str = ""
    organization: int | None = None
    project: int | None = None
    key: str = ""  # the key's public id, never the key


_NONE = LogContext()
_current: contextvars.ContextVar[LogContext] = contextvars.ContextVar(
    "log_context",
    default=_NONE,  # noqa: B039 (never changed: identify() replaces it first)
)

# The characters and length accepted in an incoming X-Request-ID.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(given: str = "") -> str:
    """Return ``given`` when it is a well-formed request id, else a new one.

    An id shaped like a key is replaced too: it would be echoed in a response
    header and written, masked, into every log line of the request.
    """
    if _REQUEST_ID.fullmatch(given) and not looks_secret(given):
        return given
    return uuid.uuid4().hex


def current() -> LogContext:
    return _current.get()


def bind(request_id: str) -> None:
    """Start the log context of a new request."""
    _current.set(LogContext(request_id))


def identify(*, organization: int, project: int, key: str) -> None:
    """Name the caller once its key is known, for the rest of the request."""
    context = _current.get()
    if context is _NONE:
        context = LogContext()
        _current.set(context)
    context.organization, context.project, context.key = organization, project, key


def clear() -> None:
    _current.set(_NONE)
