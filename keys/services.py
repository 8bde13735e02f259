"""Gateway API keys: creating, limiting and revoking them; each change audited."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from redis.exceptions import RedisError

from accounts.models import Project
from accounts.services import require_active_organization
from accounts.tenancy import platform_context, tenant_context
from audit.services import record
from keys import tokens
from keys.cache import forget_key
from keys.limits import normalise_limits
from keys.models import ApiKey

logger = logging.getLogger(__name__)

DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 24 * 90


def api_key_create(
    *,
    project: Project,
    name: str,
    environment: str = ApiKey.Environment.LIVE,
    created_by: object | None = None,
    expires_at: datetime | None = None,
    limits: dict | None = None,
    lineage: str = "",
) -> tuple[ApiKey, str]:
    """Return the new key's row and its full value, which is never stored.

    ``lineage`` makes it the successor of a rotated key (see ApiKey.lineage).
    """
    if environment not in ApiKey.Environment.values:
        raise ValueError(f"unknown environment {environment!r}")
    limits = normalise_limits(limits)
    full, public_id = tokens.generate(environment)
    secret_hash = tokens.hash_secret(full, settings.BCRYPT_ROUNDS)
    with tenant_context(project.organization_id):
        require_active_organization(project.organization_id)
        api_key = ApiKey.objects.create(
            public_id=public_id,
            organization_id=project.organization_id,
            project=project,
            name=name,
            environment=environment,
            secret_hash=secret_hash,
            hint=full[-4:],
            created_by=created_by,
            expires_at=expires_at,
            limits=limits,
            lineage=lineage,
        )
        record(
            "api_key.created",
            organization=project.organization_id,
            target=api_key,
            target_id=public_id,
            after={
                "name": name,
                "environment": environment,
                "project": project.slug,
                "hint": api_key.hint,
                "limits": api_key.limits,
                "expires_at": expires_at,
            },
        )
    logger.info("api key created id=%s org=%s", public_id, project.organization_id)
    return api_key, full


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with tenant_context(api_key.organization_id):
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            record(
                "api_key.revoked",
                organization=api_key.organization_id,
                target=api_key,
                target_id=api_key.public_id,
                after={"name": api_key.name, "revoked_at": api_key.revoked_at},
            )
        transaction.on_commit(lambda: _tombstone(api_key))
    logger.info("api key revoked id=%s", api_key.public_id)
    return api_key


def api_key_update_limits(*, api_key: ApiKey, limits: dict) -> ApiKey:
    limits = normalise_limits(limits)
    with tenant_context(api_key.organization_id):
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        before = api_key.limits
        if before != limits:
            api_key.limits = limits
            api_key.save(update_fields=["limits"])
            record(
                "api_key.limits_changed",
                organization=api_key.organization_id,
                target=api_key,
                target_id=api_key.public_id,
                before=before,
                after=limits,
            )
            # Workers read limits from the cached entry: drop it, so the next
            # request verifies the key again and sees the new ones; and drop
            # the budget counters, which missed spend while a budget was off.
            transaction.on_commit(lambda: _forget(api_key))
            logger.info("api key limits changed id=%s", api_key.public_id)
    return api_key


class KeyCacheUnreachable(RuntimeError):
    """The change is recorded, but Redis could not be told: workers may keep
    the key cached until it is told. Repeating the operation tells it."""


def _tombstone(api_key: ApiKey) -> None:
    try:
        forget_key(
            api_key.public_id, revoked=True, organization_id=api_key.organization_id
        )
    except (RedisError, OSError):
        raise KeyCacheUnreachable(
            f"{api_key.public_id} is revoked in the database, but Redis could not "
            "be reached to drop it from the workers' cache; run the revocation "
            "again once Redis is back"
        ) from None


def _forget(api_key: ApiKey) -> None:
    from proxy.budgets import forget_counters  # it builds on this module

    forget_key(api_key.public_id)
    forget_counters(api_key.project_id, api_key.lineage_id)


def api_key_rotate(
    *, api_key: ApiKey, grace_hours: float = DEFAULT_GRACE_HOURS
) -> tuple[ApiKey, str]:
    """Create the key's successor and let the old one work ``grace_hours`` more.

    The successor copies the project, name, environment, limits and expiry and
    is returned with its full value, shown once. With no grace the old key is
    revoked at once.
    """
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise ValueError(f"the grace period is 0 to {MAX_GRACE_HOURS} hours")
    with tenant_context(api_key.organization_id):
        old = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if old.revoked_at is not None:
            raise ValueError("a revoked key cannot be rotated")
        now = timezone.now()
        if old.expires_at is not None and old.expires_at <= now:
            raise ValueError("an expired key cannot be rotated")
        if old.successor:
            raise ValueError(
                f"this key was rotated already; rotate its successor {old.successor}"
            )
        successor, full = api_key_create(
            project=old.project,
            name=old.name,
            environment=old.environment,
            expires_at=old.expires_at,
            limits=old.limits,
            lineage=old.lineage_id,
        )
        old.successor = successor.public_id
        grace_ends = now + timedelta(hours=grace_hours)
        before = old.expires_at
        if old.expires_at is None or grace_ends < old.expires_at:
            old.expires_at = grace_ends
        old.save(update_fields=["expires_at", "successor"])
        if grace_hours == 0:
            api_key_revoke(api_key=old)
        record(
            "api_key.rotated",
            organization=old.organization_id,
            target=old,
            target_id=old.public_id,
            before={"expires_at": before},
            after={
                "expires_at": old.expires_at,
                "revoked": grace_hours == 0,
                "successor": successor.public_id,
                "grace_hours": grace_hours,
            },
        )
        # Workers cache the key with its expiry: drop it, so the next request
        # reads the new one.
        transaction.on_commit(lambda: forget_key(old.public_id))
    logger.info(
        "api key rotated id=%s successor=%s", old.public_id, successor.public_id
    )
    return successor, full


def api_keys_unused(*, days: int, organization_id: int | None = None) -> list[ApiKey]:
    """Working keys not used for ``days`` days (never used: created before then)."""
    cutoff = timezone.now() - timedelta(days=days)
    stale = Q(last_used_at__lt=cutoff) | Q(
        last_used_at__isnull=True, created_at__lt=cutoff
    )
    working = Q(revoked_at__isnull=True) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    scope = (
        platform_context()
        if organization_id is None
        else tenant_context(organization_id)
    )
    with scope:
        keys = ApiKey.objects.filter(stale & working).select_related(
            "organization", "project"
        )
        return list(keys.order_by("organization_id", "created_at"))


def api_key_by_public_id(public_id: str) -> ApiKey | None:
    """Find a key by the id in its prefix, whichever organisation holds it."""
    # The id is all a presented key tells about its tenant, so this one read
    # crosses tenants; it returns at most the one row the id names.
    with platform_context():
        return (
            ApiKey.objects.filter(public_id=public_id)
            .select_related("project", "organization")
            .first()
        )
