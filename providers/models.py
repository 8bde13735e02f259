from __future__ import annotations

import uuid

from django.db import models

from accounts.database import gateway_read_only
from accounts.models import Organization, Project
from accounts.tenancy import TenantManager


@gateway_read_only
class DataKey(models.Model):
    """An organisation's data key, wrapped by a master key; never stored in clear."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="data_key"
    )
    master_key_id = models.CharField(max_length=64)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"data key of org {self.organization_id} under {self.master_key_id}"


@gateway_read_only
class ProviderCredential(models.Model):
    """A provider API key, encrypted with the organisation's data key."""

    PURPOSE = "provider-credential"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="provider_credentials"
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="provider_credentials",
        help_text="Narrows the credential to one project; empty means every project.",
    )
    provider = models.CharField(max_length=40)
    base_url = models.URLField(max_length=500, blank=True)
    ciphertext = models.BinaryField(blank=True)
    hint = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"],
                condition=models.Q(project__isnull=True),
                name="credential_unique_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "project", "provider"],
                condition=models.Q(project__isnull=False),
                name="credential_unique_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} credential ({self.masked})"

    @property
    def masked(self) -> str:
        return f"…{self.hint}" if self.hint else "no key"
