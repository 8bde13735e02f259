"""Guardrail events are purged with the organisation's audit retention, by a
database function, on a time the database stamped."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

import pytest

from accounts.services import organization_create
from accounts.tenancy import tenant_context
from audit.tests.test_chain import as_owner, settle
from guardrails.models import GuardrailEvent

pytestmark = pytest.mark.django_db(transaction=True)


def event(org, age_days: int, written_as_days: int | None = None) -> GuardrailEvent:
    """An event ``age_days`` old, whatever time the caller wrote on it."""
    claimed = age_days if written_as_days is None else written_as_days
    with tenant_context(org):
        made = GuardrailEvent.objects.create(
            organization=org,
            request_id="r",
            detector="pii",
            type="EMAIL_ADDRESS",
            action="flag",
            direction="input",
            location="messages[0].content[0:5]",
            created_at=timezone.now() - timedelta(days=claimed),
        )
    if age_days:
        as_owner(
            "UPDATE guardrails_guardrailevent SET created_at = %s WHERE id = %s",
            timezone.now() - timedelta(days=age_days),
            made.pk,
        )
    return made


def ids(org) -> set[int]:
    with tenant_context(org):
        return set(GuardrailEvent.objects.values_list("pk", flat=True))


def test_events_older_than_the_plan_keeps_them_are_purged():
    org = organization_create(slug="gr-retention", name="R")  # Free: 30 days
    settle(org)
    old, kept, new = event(org, 31), event(org, 29), event(org, 0)

    call_command("audit_purge", "--org", org.slug)

    assert ids(org) == {kept.pk, new.pk}
    assert old.pk not in ids(org)


def test_the_database_stamps_the_time_an_event_was_written():
    if connection.vendor != "postgresql":
        pytest.skip("the stamp is a PostgreSQL trigger")
    org = organization_create(slug="gr-stamp", name="S")
    made = event(org, 0, written_as_days=365 * 3)

    with tenant_context(org):
        stored = GuardrailEvent.objects.get(pk=made.pk)

    assert timezone.now() - stored.created_at < timedelta(minutes=1)
