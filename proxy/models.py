from __future__ import annotations

from django.db import models

from accounts.models import Organization, Project
from accounts.tenancy import TenantManager
from keys.models import ApiKey


class UsageRecord(models.Model):
    """One proxied request: who, which model, what it cost, how it went."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="usage_records"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, related_name="usage_records"
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, related_name="usage_records"
    )
    request_id = models.CharField(max_length=64, db_index=True)
    endpoint = models.CharField(max_length=40)
    model = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    stream = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=60, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=10, null=True)
    latency_ms = models.PositiveIntegerField(default=0)
    ttft_ms = models.PositiveIntegerField(null=True)
    created_at = models.DateTimeField(db_index=True)
    # Prompt and completion text, kept only when the organisation opts in, and
    # then sealed with its data key by proxy.content; NULL otherwise.
    text_ciphertext = models.BinaryField(null=True, blank=True)

    objects = TenantManager()

    # What the proxy captured for ``text_ciphertext``; set on the instance on
    # its way to the usage writer, which seals it. Never stored as it is.
    pending_text: dict | None = None
    # The request's guardrail findings, written with the record.
    pending_events: list | tuple = ()

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.request_id} {self.model} {self.status_code}"
