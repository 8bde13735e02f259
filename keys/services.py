"""Gateway API keys: creating, limiting and revoking them; each change audited."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Project
from accounts.services import require_active_organization
from accounts.tenancy import platform_context, tenant_context
from audit.services import record
from keys import tokens
from keys.cache import forget_key
from keys.limits import normalise_limits
from keys.models import ApiKey

logger = logging.getLogger(__name__)


def api_key_create(
    *,
    project: Project,
    name: str,
    environment: str = ApiKey.Environment.LIVE,
    created_by: object | None = None,
    expires_at: datetime | None = None,
    limits: dict | None = None,
) -> tuple[ApiKey, str]:
    """Return the new key's row and its full value, which is never stored."""
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
        transaction.on_commit(
            lambda: forget_key(
                api_key.public_id,
                revoked=True,
                organization_id=api_key.organization_id,
            )
        )
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
            # request verifies the key again and sees the new ones.
            transaction.on_commit(lambda: forget_key(api_key.public_id))
            logger.info("api key limits changed id=%s", api_key.public_id)
    return api_key


def api_key_by_public_id(public_id: str) -> ApiKey | None:
    """Find a key by the id in its prefix, whichever organisation holds it."""
    # The id is all a presented key tells about its tenant, so this one read
    # crosses tenants; it returns at most the one row the id names.
    with platform_context():
        return ApiKey.objects.filter(public_id=public_id).first()
