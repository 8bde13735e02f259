"""Guardrail events are kept as long as the organisation's audit records."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import Organization
from accounts.tenancy import tenant_context
from guardrails.models import GuardrailEvent


def purge_events(organization: Organization) -> int:
    """Remove the organisation's guardrail events older than its retention."""
    with tenant_context(organization):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT warden_guardrail_purge(%s)", [organization.pk])
                return int(cursor.fetchone()[0])
        # SQLite, the quick-start database, has no owner functions.
        cutoff = timezone.now() - timedelta(days=organization.retention_days)
        old = GuardrailEvent.objects.for_organization(organization).filter(
            created_at__lt=cutoff
        )
        return old.delete()[0]
