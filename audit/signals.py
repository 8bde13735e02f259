"""Sign-in, sign-out and failed sign-in, recorded from Django's auth signals.

Django's ``login`` and ``logout`` (the admin's too) send these signals and
nothing else sees every sign-in, so this is where they are recorded; each
receiver is one call to the audit service.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache

from audit import context as audit_context
from audit.context import Actor
from audit.models import AuditEvent
from audit.services import record, record_for_user

security_logger = logging.getLogger("warden.security.auth")


def signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_for_user(user, "auth.signed_in", actor=Actor.user(user), target=user)


def signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:  # logging out without being signed in
        record_for_user(user, "auth.signed_out", actor=Actor.user(user), target=user)


def sign_in_failed(sender: Any, credentials: dict, **kwargs: Any) -> None:
    """Record a failed attempt against the account it names, if one exists.

    The name typed is never stored: an attempt naming no account goes to the
    platform chain with no identifier, so an attacker cannot write what they
    like into the trail.
    """
    failure = AuditEvent.Outcome.FAILURE
    user = _named_user(credentials)
    if not _within_budget(audit_context.current().ip_address):
        security_logger.warning(
            "sign-in failed; not recorded, too many from one address"
        )
    elif user is None:
        record("auth.sign_in_failed", organization=None, outcome=failure)
    else:
        record_for_user(user, "auth.sign_in_failed", target=user, outcome=failure)
    security_logger.warning(
        "sign-in failed for %s", "an existing account" if user else "no account"
    )


# Failed sign-ins recorded per client address and minute; past that they are
# only logged, so a password-guessing run cannot flood the audit trail.
FAILED_SIGN_IN_RECORDS_PER_MINUTE = 20


def _within_budget(address: str) -> bool:
    key = f"audit:signin-failures:{address or 'unknown'}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) <= FAILED_SIGN_IN_RECORDS_PER_MINUTE
    except ValueError:  # expired between add and incr
        return True


def _named_user(credentials: dict) -> Any:
    # By name, or by address when the sign-in form was given one.
    user_model = get_user_model()
    for field in (user_model.USERNAME_FIELD, "email"):
        name = credentials.get(field)
        if isinstance(name, str) and name:
            lookup = {f"{field}__iexact" if field == "email" else field: name}
            return user_model._default_manager.filter(**lookup).first()
    return None
