"""Who is acting, and from where: bound once per request, command or job.

The audit service reads it, so code deep in a service records an action with
one call and without being handed the request.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from django.http import HttpRequest

from gateway_project.clientaddr import request_address
from gateway_project.logcontext import request_id


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    email: str = ""

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls("user", str(user.pk), getattr(user, "email", None) or "")

    @classmethod
    def api_key(cls, public_id: str) -> Actor:
        return cls("api_key", public_id)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls("system", name)


@dataclass(frozen=True)
class AuditContext:
    actor: Actor = Actor("system", "unknown")
    ip_address: str = ""
    user_agent: str = ""
    request_id: str = ""


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "audit_context",
    default=AuditContext(),  # noqa: B039 (frozen, so sharing it is safe)
)


def current() -> AuditContext:
    return _current.get()


@contextmanager
def bound(**changes: Any) -> Iterator[AuditContext]:
    """Bind actor, ip_address, user_agent or request_id for the block."""
    context = replace(_current.get(), **changes)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def acting_as(actor: Actor) -> Any:
    return bound(actor=actor)


def set_actor(actor: Actor) -> None:
    """Name the actor for the rest of the request bound by the middleware:
    for a caller known only once the API has checked a management token."""
    _current.set(replace(_current.get(), actor=actor))


def from_request(request: HttpRequest) -> AuditContext:
    user = getattr(request, "user", None)
    actor = (
        Actor.user(user)
        if user is not None and user.is_authenticated
        else Actor("user", "")
    )
    return AuditContext(
        actor=actor,
        ip_address=request_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        # RequestIdMiddleware's, so the audit trail and the logs agree.
        request_id=getattr(request, "request_id", "")
        or request_id(request.META.get("HTTP_X_REQUEST_ID", "")),
    )
