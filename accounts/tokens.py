"""Management API tokens: ``wmt_<public id>_<secret>``, looked up by their
public id and checked against a hash, in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ManagementToken
from audit.context import Actor, set_actor
from audit.services import record_for_user

PREFIX = "wmt_"
# A token's last use is written at most this often.
TOUCH_SECONDS = 300


def token_create(
    *, user: Any, name: str, days: int | None = 90
) -> tuple[ManagementToken, str]:
    """Return the new token's row and its value, shown once and never stored."""
    public_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    value = f"{PREFIX}{public_id}_{secret}"
    with transaction.atomic():
        token = ManagementToken.objects.create(
            user=user,
            name=name[:100],
            public_id=public_id,
            token_hash=_hash(secret),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        record_for_user(
            user,
            "management_token.created",
            target=token,
            target_id=public_id,
            after={"name": token.name, "expires_at": token.expires_at},
        )
    return token, value


def token_revoke(token: ManagementToken) -> None:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_for_user(
                token.user,
                "management_token.revoked",
                target=token,
                target_id=token.public_id,
            )


def token_for(value: str) -> ManagementToken | None:
    """The token a value is, with its person, if it still works."""
    if not value.startswith(PREFIX):
        return None
    public_id, _, secret = value[len(PREFIX) :].partition("_")
    token = (
        ManagementToken.objects.select_related("user")
        .filter(public_id=public_id)
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, _hash(secret)):
        return None
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > TOUCH_SECONDS
    ):
        ManagementToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ManagementTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer wmt_...``. No session, so no CSRF token needed."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, ManagementToken] | None:
        header = authentication.get_authorization_header(request).decode(
            "latin-1", "replace"
        )
        scheme, _, value = header.partition(" ")
        if scheme.lower() != self.keyword or not value.strip().startswith(PREFIX):
            return None
        token = token_for(value.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        # The audit middleware ran before the token was checked.
        set_actor(Actor.user(token.user))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="management"'
