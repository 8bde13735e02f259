from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.tenancy import TenantManager

# Erased accounts are renamed deleted-<id>; nobody else may take such a name.
ERASED_PREFIX = "deleted-"


class User(AbstractUser):
    # NULL rather than "" for users without one, so they never collide on the
    # unique index.
    email = models.EmailField(unique=True, null=True, blank=True)  # type: ignore[assignment]

    def clean(self) -> None:
        super().clean()
        if self.username.startswith(ERASED_PREFIX) and (
            self.pk is None or self.username != f"{ERASED_PREFIX}{self.pk}"
        ):
            raise ValidationError(
                {"username": f"Names starting with {ERASED_PREFIX!r} are reserved."}
            )

    def save(self, *args, **kwargs) -> None:
        # Django's forms and create_user() give "" for no address.
        if not self.email:
            self.email = None
        if self.username.startswith(ERASED_PREFIX) and (
            self.pk is None or self.username != f"{ERASED_PREFIX}{self.pk}"
        ):
            self.clean()  # raises: the name is reserved
        super().save(*args, **kwargs)


def validate_model_prices(value: object) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Model prices must be an object keyed by model.")
    for model, price in value.items():
        if "/" not in model or not isinstance(price, dict):
            raise ValidationError(f"{model!r}: expected provider/model: {{prices}}.")
        for name in ("input_per_mtok", "output_per_mtok"):
            try:
                amount = Decimal(str(price[name]))
            except (KeyError, InvalidOperation):
                raise ValidationError(f"{model!r}: {name} is required.") from None
            if not amount.is_finite() or amount < 0:
                raise ValidationError(f"{model!r}: {name} must be 0 or more.")
        max_output = price.get("max_output", 0)
        if type(max_output) is not int or max_output < 0:
            raise ValidationError(f"{model!r}: max_output must be a whole number.")


PLAN_RETENTION_DAYS = {"free": 30, "pro": 90}
ENTERPRISE_DEFAULT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 36_500  # a century; dates past it overflow


class Organization(models.Model):
    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PRO = "pro", "Pro"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    # Only an Enterprise plan chooses its audit retention; see retention_days.
    audit_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
    )
    # Request logs keep prompt and completion text only when this is on, and
    # then encrypted with the organisation's data key.
    store_request_text = models.BooleanField(default=False)
    # Prices for models the catalogue does not price (or priced differently):
    # {"provider/model": {"input_per_mtok": "1.5", "output_per_mtok": "6",
    # "max_output": 8192}}. A key with a spend budget cannot use a model
    # priced nowhere.
    model_prices = models.JSONField(
        default=dict, blank=True, validators=[validate_model_prices]
    )
    # When the shared counters (Redis) cannot be reached, requests of keys
    # with rate limits or budgets are refused (False) or let through with a
    # warning logged (True).
    limits_fail_open = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Zero would let the purge take everything; the database says no.
            models.CheckConstraint(
                condition=models.Q(audit_retention_days__isnull=True)
                | models.Q(
                    audit_retention_days__gte=1,
                    audit_retention_days__lte=MAX_RETENTION_DAYS,
                ),
                name="organization_retention_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def retention_days(self) -> int:
        """How long audit records are kept; the purge function agrees."""
        if self.plan == self.Plan.ENTERPRISE:
            if self.audit_retention_days is not None:
                return self.audit_retention_days
            return ENTERPRISE_DEFAULT_RETENTION_DAYS
        return PLAN_RETENTION_DAYS.get(self.plan, PLAN_RETENTION_DAYS["free"])


class Project(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60)
    # Budgets shared by every key of the project: budget_usd, budget_tokens
    # and budget_period, as on a key (see keys.limits.normalise_project_limits).
    limits = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="project_slug_unique_in_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.slug}"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} is {self.role} of {self.organization_id}"


class Invitation(models.Model):
    """An invitation to join an organisation with a role, sent by email.

    Only a hash of its token is kept; the link in the mail carries the token.
    It is accepted once, by someone signed in whose verified address is the
    one invited, before it expires.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.email} to {self.organization_id} as {self.role}"

    @property
    def open(self) -> bool:
        from django.utils import timezone

        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ManagementToken(models.Model):
    """A person's token for the management API, used instead of a session.

    It acts as its person, with their roles; only a hash is kept, and the
    value is shown once when it is made.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="management_tokens",
    )
    name = models.CharField(max_length=100)
    public_id = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"management token {self.public_id} of {self.user_id}"
