"""Organisations a person starts, and the invitations that bring others in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Invitation, Membership, Organization
from accounts.services import membership_add, organization_create, project_create
from accounts.tenancy import tenant_context
from audit.services import record

INVITATION_DAYS = 7


class InvitationError(ValueError):
    """The invitation cannot be used: unknown, used, revoked, expired or not yours."""


class SlugTaken(ValueError):
    """Another organisation has this slug."""


def organization_start(*, user: Any, slug: str, name: str = "") -> Organization:
    """Create an organisation with a default project; its creator owns it."""
    try:
        with transaction.atomic():
            organization = organization_create(slug=slug, name=name)
            membership_add(
                organization=organization, user=user, role=Membership.Role.OWNER
            )
            project_create(organization=organization, slug="default", name="Default")
    except IntegrityError:
        raise SlugTaken(f"the name {slug!r} is taken; choose another") from None
    return organization


def invitation_create(
    *, organization: Organization, email: str, role: str, invited_by: Any, link: str
) -> Invitation:
    """Invite ``email`` with ``role`` and mail them the link to accept.

    ``link`` is the page's address with ``{token}`` where the token goes; the
    token is in the mail and nowhere else.
    """
    if role not in Membership.Role.values:
        raise ValueError(f"unknown role {role!r}")
    email = email.strip()
    token = secrets.token_urlsafe(32)
    with tenant_context(organization), transaction.atomic():
        if (
            Membership.objects.for_organization(organization)
            .filter(user__email__iexact=email)
            .exists()
        ):
            raise InvitationError(f"{email} is a member already")
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=_hash(token),
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        record(
            "invitation.created",
            organization=organization,
            target=invitation,
            after={"email": email, "role": role},
        )
        transaction.on_commit(
            lambda: send_mail(
                f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Join {organization.name}",
                f"{_name(invited_by)} invites you to join {organization.name} on "
                f"Warden as {role}.\n\nAccept within {INVITATION_DAYS} days, "
                f"signed in with this address:\n{link.format(token=token)}\n",
                None,
                [email],
            )
        )
    return invitation


def invitation_find(organization: Organization, token: str) -> Invitation:
    with tenant_context(organization):
        invitation = (
            Invitation.objects.for_organization(organization)
            .filter(token_hash=_hash(token))
            .first()
        )
    if invitation is None or not invitation.open:
        raise InvitationError("This invitation is not valid any more.")
    return invitation


def addressed_to(invitation: Invitation, user: Any) -> bool:
    """Whether ``user`` has verified the address ``invitation`` was sent to."""
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists()


def invitation_accept(
    *, organization: Organization, token: str, user: Any
) -> Membership:
    """Make ``user`` a member, if the invitation is open and names their
    verified address."""
    with tenant_context(organization), transaction.atomic():
        invitation = invitation_find(organization, token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.open:
            raise InvitationError("This invitation is not valid any more.")
        if not addressed_to(invitation, user):
            raise InvitationError(
                "This invitation is for another address. Sign in with the "
                "address it was sent to."
            )
        existing = Membership.objects.for_organization(organization).filter(user=user)
        if existing.exists():
            raise InvitationError("You are a member already.")
        membership = membership_add(
            organization=organization, user=user, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        record(
            "invitation.accepted",
            organization=organization,
            target=invitation,
            after={"user_id": user.pk, "role": invitation.role},
        )
    return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    with tenant_context(invitation.organization_id), transaction.atomic():
        if invitation.revoked_at is not None or invitation.accepted_at is not None:
            return
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(
            "invitation.revoked",
            organization=invitation.organization_id,
            target=invitation,
            before={"email": invitation.email, "role": invitation.role},
        )


def open_invitations(organization: Organization) -> list[Invitation]:
    with tenant_context(organization):
        return [
            invitation
            for invitation in Invitation.objects.for_organization(organization)
            .filter(accepted_at__isnull=True, revoked_at__isnull=True)
            .order_by("-created_at")
            if invitation.open
        ]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _name(user: Any) -> str:
    if user is None:
        return "Someone"
    return user.get_full_name() or user.email or user.username
