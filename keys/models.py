from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Organization, Project
from accounts.tenancy import TenantManager


class ApiKey(models.Model):
    class Environment(models.TextChoices):
        LIVE = "live", "Live"
        TEST = "test", "Test"

    public_id = models.CharField(max_length=32, unique=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=200)
    environment = models.CharField(
        max_length=8, choices=Environment.choices, default=Environment.LIVE
    )
    secret_hash = models.CharField(max_length=100)
    hint = models.CharField(max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    limits = models.JSONField(default=dict, blank=True)
    # The public id of the first key of its rotation chain ("" for that key
    # itself): a rotated key's successors share its budgets and rate limits.
    lineage = models.CharField(max_length=32, blank=True, db_index=True)
    # The key that replaced this one, once rotated; a key rotates only once.
    successor = models.CharField(max_length=32, blank=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def lineage_id(self) -> str:
        return self.lineage or self.public_id

    @property
    def masked(self) -> str:
        return f"wdn_{self.environment}_{self.public_id}_…{self.hint}"
