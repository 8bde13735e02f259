from __future__ import annotations

from django.db import models

from accounts.database import append_only, gateway_read_only
from accounts.models import Organization, Project
from accounts.tenancy import TenantManager


@gateway_read_only
class GuardrailPolicy(models.Model):
    """An organisation's guardrail policy, or a project's overrides of it.

    ``settings`` holds a (partial) policy in the form
    ``guardrails.policy.normalise_policy`` gives it.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="guardrail_policies"
    )
    project = models.OneToOneField(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="guardrail_policy",
    )
    settings = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(project__isnull=True),
                name="one_guardrail_policy_per_organization",
            )
        ]

    def __str__(self) -> str:
        scope = f"project {self.project_id}" if self.project_id else "organisation"
        return f"guardrail policy of {scope} in org {self.organization_id}"


@gateway_read_only
class CustomRule(models.Model):
    """A tenant's own rule: a keyword list or a regular expression (RE2)."""

    class Kind(models.TextChoices):
        KEYWORDS = "keywords", "Keywords"
        REGEX = "regex", "Regular expression"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="guardrail_rules"
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="guardrail_rules",
        help_text="Narrows the rule to one project; empty means every project.",
    )
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The expression, or the keywords one per line.
    pattern = models.TextField(max_length=2000)
    case_sensitive = models.BooleanField(default=False)
    action = models.CharField(max_length=8, default="flag")
    applies_to = models.CharField(max_length=8, default="input")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="custom_rule_name_unique_in_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.action})"


@append_only
class GuardrailEvent(models.Model):
    """One finding on one request: never the value, only a keyed hash of it."""

    # Append-only: nothing may update or delete a row, so no cascade either.
    # Organisations are only ever marked deleted; a deleted project leaves its
    # id here.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="guardrail_events"
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    api_key_id = models.CharField(max_length=32, blank=True)
    request_id = models.CharField(max_length=64, db_index=True)
    detector = models.CharField(max_length=20)
    type = models.CharField(max_length=80)
    rule = models.CharField(max_length=80, blank=True)
    action = models.CharField(max_length=8)
    direction = models.CharField(max_length=8)
    location = models.CharField(max_length=120)
    value_hash = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(default=1.0)
    created_at = models.DateTimeField()

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.request_id} {self.detector}/{self.type} {self.action}"
