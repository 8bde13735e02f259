"""The audit trail: one hash-chained, append-only sequence per organisation."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.database import append_only
from accounts.models import Organization
from accounts.tenancy import TenantManager

GENESIS = "0" * 64


@append_only
class AuditEvent(models.Model):
    """One security-relevant action. Never updated, never deleted by the app.

    ``organization`` is empty for platform events (master-key rotation, sign-in
    attempts by nobody known), which form a chain of their own. ``hash`` covers
    every column except ``actor_email``, the display snapshot that erasure
    pseudonymises; ``actor_id`` keeps the trail attributable after that.
    """

    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        SYSTEM = "system", "System"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    # Stamped by the database on insert (PostgreSQL); outside the hash. The
    # retention purge goes by it, so a backdated created_at purges nothing.
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    # Canonical JSON text, secrets masked: stored as written, so the hash
    # computed when it was written can be computed again from the row.
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "seq"], name="audit_seq_unique_in_org"
            ),
            models.UniqueConstraint(
                fields=["seq"],
                condition=models.Q(organization__isnull=True),
                name="audit_seq_unique_in_platform",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["organization", "recorded_at"]),
            models.Index(fields=["organization", "action", "created_at"]),
            models.Index(fields=["organization", "actor_id", "created_at"]),
            models.Index(fields=["organization", "target_type", "target_id"]),
            # A person's records across organisations: export and erasure.
            models.Index(fields=["actor_type", "actor_id"]),
        ]
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"{self.action} #{self.seq}"


class AuditChain(models.Model):
    """The head of one organisation's chain: locked to append, read to verify."""

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    objects = TenantManager()

    class Meta:
        constraints = [
            # One chain per organisation, and one for the platform (NULL).
            models.UniqueConstraint(
                Coalesce("organization", models.Value(0)),
                name="audit_one_chain_per_organization",
            )
        ]

    def __str__(self) -> str:
        return f"chain of {self.organization_id or 'the platform'} at {self.seq}"
