"""Retention by plan: remove what is older, leave a checkpoint that keeps the chain.

On PostgreSQL the deletion happens inside ``warden_audit_purge``, which runs as
the tables' owner and itself decides, from the organisation's plan, what is
old enough to go; the application role cannot delete audit rows at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import platform_context
from audit import services
from audit.context import Actor
from audit.models import AuditEvent
from audit.sql import PLATFORM_RETENTION_DAYS

PURGE_ACTION = "audit.purged"

logger = logging.getLogger("warden.audit")


@dataclass(frozen=True)
class PurgeResult:
    organization_id: int | None
    removed: int
    through_seq: int | None


def retention_days(organization: Organization | None) -> int:
    return (
        PLATFORM_RETENTION_DAYS if organization is None else organization.retention_days
    )


def purge(organization: Organization | None) -> PurgeResult:
    """Purge one chain and append its checkpoint, in one transaction."""
    org_id = None if organization is None else organization.pk
    with services.chain_scope(org_id):
        # Holding the chain's head serialises purges with each other and with
        # appends, so the checkpoint names exactly what was removed.
        services.locked_head(org_id)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM warden_audit_purge(%s)", [org_id])
                removed, through_seq, through_hash, days = cursor.fetchone()
        else:
            days = retention_days(organization)
            removed, through_seq, through_hash = _purge_in_python(organization)
        if removed:
            services.record(
                PURGE_ACTION,
                organization=org_id,
                actor=Actor.system("audit_purge"),
                detail={
                    "removed": removed,
                    "through_seq": through_seq,
                    "through_hash": through_hash,
                    "retention_days": days,
                },
            )
    return PurgeResult(org_id, removed or 0, through_seq)


def _purge_in_python(organization: Organization | None) -> tuple[int, int | None, str]:
    """SQLite, the quick-start database, has no owner functions or triggers."""
    cutoff = timezone.now() - timedelta(days=retention_days(organization))
    events = AuditEvent.objects.filter(organization=organization)
    last = events.filter(recorded_at__lt=cutoff).order_by("-seq").first()
    if last is None:
        return 0, None, ""
    removed, _ = events.filter(seq__lte=last.seq).delete()
    return removed, last.seq, last.hash


def purge_all() -> tuple[list[PurgeResult], list[str]]:
    """Every organisation's chain and the platform's; safe to run repeatedly.

    One chain that cannot be purged does not hold up the others: its failure
    is logged and returned, by organisation slug.
    """
    results, failed = [], []
    chains: list[Organization | None] = [None]
    chains += list(Organization.objects.order_by("pk"))
    for organization in chains:
        try:
            results.append(purge(organization))
        except DatabaseError:
            name = organization.slug if organization else "(platform)"
            logger.exception("audit purge failed for %s", name)
            failed.append(name)
    return results, failed


def pseudonymise_actor(user_id: int | str, pseudonym: str) -> int:
    """Replace a person's email snapshot in every audit record they acted in."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT warden_audit_pseudonymise(%s, %s)",
                    [str(user_id), pseudonym],
                )
                return cursor.fetchone()[0]
        with platform_context():
            return (
                AuditEvent.objects.filter(actor_type="user", actor_id=str(user_id))
                .exclude(actor_email=pseudonym)
                .update(actor_email=pseudonym)
            )
