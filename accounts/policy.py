"""The one answer to "may this person do this action in this organisation?".

Every page and API view asks here, through ``can`` or ``organization_for``.
An action a role may take is listed in ``ALLOWED_ROLES``; an action missing
from it is a programming error and raises, rather than quietly denying.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Membership, Organization
from accounts.tenancy import tenant_context, user_context

Role = Membership.Role

EVERYONE = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER})
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})

ALLOWED_ROLES: dict[str, frozenset[str]] = {
    "org.view": EVERYONE,
    "members.view": EVERYONE,
    "members.invite": MANAGERS,
    "members.manage": MANAGERS,
    # Making, changing or removing an owner: owners only.
    "members.owners": frozenset({Role.OWNER}),
    "keys.manage": frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER}),
    "providers.view": EVERYONE,
    "providers.manage": MANAGERS,
    "usage.view": EVERYONE,
    "audit.view": frozenset({Role.OWNER, Role.ADMIN}),
    "audit.export": frozenset({Role.OWNER, Role.ADMIN}),
    "keys.view": frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER}),
    "keys.limits": frozenset({Role.OWNER, Role.ADMIN}),
    "projects.view": frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER}),
    "projects.budgets": frozenset({Role.OWNER, Role.ADMIN}),
    "projects.manage": frozenset({Role.OWNER, Role.ADMIN}),
    "guardrails.view": frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER}),
    "guardrails.manage": frozenset({Role.OWNER, Role.ADMIN}),
}


def role_in(user: Any, organization: Organization) -> str | None:
    """Return the user's role in the organisation, or None if not a member."""
    if not getattr(user, "is_authenticated", False):
        return None
    with tenant_context(organization):
        mine = Membership.objects.for_organization(organization).filter(user=user)
        return mine.values_list("role", flat=True).first()


def can(user: Any, action: str, organization: Organization) -> bool:
    return role_in(user, organization) in _roles_for(action)


def organization_for(user: Any, slug: str, action: str) -> Organization:
    """Return the organisation ``slug`` if ``user`` may do ``action`` there.

    Raise Http404 when there is no such organisation or the user is not one
    of its members, so an outsider cannot tell the two apart, and
    PermissionDenied when a member's role does not allow the action.
    """
    allowed = _roles_for(action)
    organization = Organization.objects.filter(
        slug=slug, deleted_at__isnull=True
    ).first()
    role = None if organization is None else role_in(user, organization)
    if organization is None or role is None:
        raise Http404("No such organisation.")
    if role not in allowed:
        raise PermissionDenied(f"Your role ({role}) does not allow {action}.")
    return organization


def organizations_for(user: Any, action: str) -> list[Organization]:
    """The organisations where ``user`` may do ``action``, by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    with user_context(user.pk):
        ids = list(
            Membership.objects.filter(
                user=user, role__in=_roles_for(action)
            ).values_list("organization_id", flat=True)
        )
    return list(
        Organization.objects.filter(pk__in=ids, deleted_at__isnull=True).order_by(
            "name"
        )
    )


def _roles_for(action: str) -> frozenset[str]:
    try:
        return ALLOWED_ROLES[action]
    except KeyError:
        raise LookupError(f"no policy for action {action!r}") from None
