"""Organisations, their members and projects; every change is audited."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization, Project, validate_model_prices
from accounts.tenancy import tenant_context
from audit.services import record

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")

# Marks an argument of an update service the caller did not pass.
UNCHANGED: Any = object()


class LastOwner(ValueError):
    """The change would leave the organisation without an owner."""


class ProjectInUse(ValueError):
    """The project still has keys that work."""


def organization_create(
    *, slug: str, name: str = "", plan: str = "free"
) -> Organization:
    if not (isinstance(slug, str) and SLUG.fullmatch(slug)):
        raise ValueError("a slug is lowercase letters, digits and hyphens, up to 60")
    with transaction.atomic():
        organization = Organization.objects.create(
            slug=slug, name=name or slug, plan=plan
        )
        record(
            "organization.created",
            organization=organization,
            target=organization,
            after={"slug": slug, "name": organization.name, "plan": plan},
        )
    return organization


def organization_update(
    *,
    organization: Organization,
    name: Any = UNCHANGED,
    plan: Any = UNCHANGED,
    audit_retention_days: Any = UNCHANGED,
    store_request_text: Any = UNCHANGED,
    model_prices: Any = UNCHANGED,
    limits_fail_open: Any = UNCHANGED,
) -> Organization:
    """Change the given fields; a plan change is the subscription change."""
    requested = {
        field: value
        for field, value in [
            ("name", name),
            ("plan", plan),
            ("audit_retention_days", audit_retention_days),
            ("store_request_text", store_request_text),
            ("model_prices", model_prices),
            ("limits_fail_open", limits_fail_open),
        ]
        if value is not UNCHANGED
    }
    _check_organization_fields(requested)
    with tenant_context(organization):
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        before = {field: getattr(organization, field) for field in requested}
        after = {f: v for f, v in requested.items() if before[f] != v}
        if after:
            for field, value in after.items():
                setattr(organization, field, value)
            organization.save(update_fields=list(after))
            record(
                "organization.updated",
                organization=organization,
                target=organization,
                before={field: before[field] for field in after},
                after=after,
            )
            if "limits_fail_open" in after:
                _forget_keys_of(organization.api_keys.all())
    return organization


def _forget_keys_of(api_keys: Any) -> None:
    """Drop the workers' cached entries of these keys once the change commits.

    The proxy reads a key's project budgets and its organisation's limits
    policy from that entry; the next request verifies the key again.
    """
    from keys.cache import forget_key

    public_ids = list(
        api_keys.filter(revoked_at__isnull=True).values_list("public_id", flat=True)
    )

    def forget() -> None:
        for public_id in public_ids:
            forget_key(public_id)

    transaction.on_commit(forget)


def _forget_budget_counters(project: Project) -> None:
    """Let the next request seed the project's budget counters afresh: spend
    while its budget was off or different was not counted."""
    from proxy.budgets import forget_counters

    transaction.on_commit(lambda: forget_counters(project.pk, None))


def _check_organization_fields(fields: dict[str, Any]) -> None:
    if "name" in fields and not (isinstance(fields["name"], str) and fields["name"]):
        raise ValueError("the name must be a non-empty string")
    if "plan" in fields and fields["plan"] not in Organization.Plan.values:
        raise ValueError(f"unknown plan {fields['plan']!r}")
    days = fields.get("audit_retention_days")
    if days is not None and (type(days) is not int or days < 1):
        raise ValueError("audit_retention_days must be a positive number of days")
    if (
        "store_request_text" in fields
        and type(fields["store_request_text"]) is not bool
    ):
        raise ValueError("store_request_text must be True or False")
    if "limits_fail_open" in fields and type(fields["limits_fail_open"]) is not bool:
        raise ValueError("limits_fail_open must be True or False")
    if "model_prices" in fields:
        try:
            validate_model_prices(fields["model_prices"])
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None


def project_create(*, organization: Organization, slug: str, name: str = "") -> Project:
    with tenant_context(organization):
        require_active_organization(organization.pk)
        project = Project.objects.create(
            organization=organization, slug=slug, name=name or slug
        )
        record(
            "project.created",
            organization=organization,
            target=project,
            after=_project_fields(project),
        )
    return project


def project_update(
    *,
    project: Project,
    name: str | None = None,
    slug: str | None = None,
    limits: dict | None = None,
) -> Project:
    """Change the given fields; ``limits`` are the budgets the keys share.

    Raise ``keys.limits.LimitError`` for limits that cannot be stored.
    """
    from keys.limits import normalise_project_limits

    if limits is not None:
        limits = normalise_project_limits(limits)
    with tenant_context(project.organization_id):
        project = Project.objects.select_for_update().get(pk=project.pk)
        before = _project_fields(project)
        project.name = project.name if name is None else name
        project.slug = project.slug if slug is None else slug
        project.limits = project.limits if limits is None else limits
        after = {f: v for f, v in _project_fields(project).items() if before[f] != v}
        if after:
            project.save(update_fields=list(after))
            record(
                "project.updated",
                organization=project.organization_id,
                target=project,
                before={field: before[field] for field in after},
                after=after,
            )
            if "limits" in after:
                _forget_keys_of(project.api_keys.all())
                _forget_budget_counters(project)
    return project


def project_delete(*, project: Project) -> None:
    """Delete the project, its revoked keys and its own provider keys.

    Refused while a key of the project still works: deleting the row would
    not drop the key from the workers' cache, where a key in use stays
    verified. Revoke the keys first.
    """
    with tenant_context(project.organization_id):
        # The lock also waits for a key being created in the project: the
        # key's foreign key holds a share lock on this row until it commits.
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.api_keys.filter(revoked_at__isnull=True).exists():
            raise ProjectInUse(f"project {project.slug!r} still has working keys")
        record(
            "project.deleted",
            organization=project.organization_id,
            target=project,
            before=_project_fields(project),
            detail={
                "revoked_keys_removed": project.api_keys.count(),
                "provider_keys_removed": project.provider_credentials.count(),
            },
        )
        project.delete()


def _project_fields(project: Project) -> dict[str, Any]:
    return {"slug": project.slug, "name": project.name, "limits": project.limits}


def organization_by_slug(slug: str) -> Organization:
    """The organisation with this slug, unless it has been deleted."""
    return Organization.objects.get(slug=slug, deleted_at__isnull=True)


class OrganizationDeleted(ValueError):
    """Nothing new is made in a deleted organisation."""


def require_active_organization(organization_id: int) -> None:
    """Refuse to add to a deleted organisation; holds off a deletion meanwhile."""
    deleted = (
        Organization.objects.select_for_update()
        .filter(pk=organization_id, deleted_at__isnull=False)
        .exists()
    )
    if deleted:
        raise OrganizationDeleted("the organisation has been deleted")


def project_by_slug(organization: Organization, slug: str) -> Project:
    with tenant_context(organization):
        return Project.objects.for_organization(organization).get(slug=slug)


def membership_add(
    *, organization: Organization, user: Any, role: str = Membership.Role.MEMBER
) -> Membership:
    _check_role(role)
    with tenant_context(organization):
        membership = Membership.objects.create(
            organization=organization, user=user, role=role
        )
        record(
            "member.added",
            organization=organization,
            target=membership,
            after={"user_id": user.pk, "role": role},
        )
    return membership


def membership_change_role(*, membership: Membership, role: str) -> Membership:
    _check_role(role)
    with tenant_context(membership.organization_id):
        owners = _locked_owners(membership.organization_id)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        previous = membership.role
        if previous == role:
            return membership
        if owners == [membership.pk]:
            raise LastOwner("the organisation's only owner cannot be demoted")
        membership.role = role
        membership.save(update_fields=["role"])
        record(
            "member.role_changed",
            organization=membership.organization_id,
            target=membership,
            before={"user_id": membership.user_id, "role": previous},
            after={"user_id": membership.user_id, "role": role},
        )
    return membership


def membership_remove(*, membership: Membership) -> None:
    with tenant_context(membership.organization_id):
        owners = _locked_owners(membership.organization_id)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if owners == [membership.pk]:
            raise LastOwner("the organisation's only owner cannot be removed")
        record(
            "member.removed",
            organization=membership.organization_id,
            target=membership,
            before={"user_id": membership.user_id, "role": membership.role},
        )
        membership.delete()


def _locked_owners(organization_id: int) -> list[int]:
    """Lock the owners' rows, so two demotions cannot both leave one owner."""
    owners = Membership.objects.for_organization(organization_id).filter(
        role=Membership.Role.OWNER
    )
    return list(owners.select_for_update().order_by("pk").values_list("pk", flat=True))


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise ValueError(f"unknown role {role!r}")


def email_mark_verified(user: Any) -> None:
    """Record the person's address as verified, for people an operator vouches
    for (an account made from the command line, say): sign-in asks everyone
    else to prove their address first."""
    from allauth.account.models import EmailAddress

    if not user.email:
        raise ValueError("this account has no email address")
    EmailAddress.objects.update_or_create(
        user=user,
        email=user.email,
        defaults={"verified": True, "primary": True},
    )
