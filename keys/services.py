"""Gateway API keys: creating and revoking them."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Project
from keys import tokens
from keys.cache import forget_key
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
    full, public_id = tokens.generate(environment)
    api_key = ApiKey.objects.create(
        public_id=public_id,
        organization_id=project.organization_id,
        project=project,
        name=name,
        environment=environment,
        secret_hash=tokens.hash_secret(full, settings.BCRYPT_ROUNDS),
        hint=full[-4:],
        created_by=created_by,
        expires_at=expires_at,
        limits=limits or {},
    )
    logger.info("api key created id=%s org=%s", public_id, project.organization_id)
    return api_key, full


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
        transaction.on_commit(lambda: forget_key(api_key.public_id, revoked=True))
    logger.info("api key revoked id=%s", api_key.public_id)
    return api_key
