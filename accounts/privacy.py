"""A person's rights over their data, and the deletion of an organisation.

A person may take a copy of everything held about them and may delete their
account. Deleting an organisation crypto-shreds it: its data key goes, so
what was encrypted for it (provider keys, request text) cannot be read again.

Events about the person are recorded on the chains ``person_chains`` names
(each organisation they belong to, or the platform's), as sign-ins are; what
an organisation loses is recorded on its own chain by the service removing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.services import membership_remove
from accounts.tenancy import platform_context, tenant_context, user_context
from audit.models import AuditEvent
from audit.retention import pseudonymise_actor
from audit.services import record, record_for_user
from keys.models import ApiKey
from keys.services import api_key_revoke
from providers.models import ProviderCredential
from providers.services import organization_data_key_destroy, provider_credential_delete

logger = logging.getLogger("warden.security.privacy")

EXPORT_FORMAT = "warden-user-data/1"
EXPORT_ACTION = "user.data_exported"
USER_DELETE_ACTION = "user.deleted"
ORGANIZATION_DELETE_ACTION = "organization.deleted"
CONFIRM_FAILED_ACTION = "user.deletion_confirmation_failed"
CONFIRM_FAILURES_ALLOWED = 5
CONFIRM_WINDOW_SECONDS = 15 * 60


class PrivacyError(ValueError):
    """The request cannot be carried out; the message tells the person why."""


class TooManyAttempts(PrivacyError):
    """Confirmation refused for a while after repeated wrong attempts."""


@dataclass(frozen=True)
class DeletionPlan:
    """What deleting a person's account does to each of their organisations."""

    blocking: list[Organization]  # their last owner, with other members left
    deleted: list[Organization]  # they own it alone, with no one else in it
    leaving: list[Membership]  # their membership is removed

    def refusal(self) -> str:
        slugs = ", ".join(organization.slug for organization in self.blocking)
        has = "has" if len(self.blocking) == 1 else "have"
        return (
            f"You are the last owner of {slugs}, which still {has} other members. "
            "Make another member an owner, or delete the organisation, first."
        )


@dataclass(frozen=True)
class OrganizationDeletion:
    gateway_keys_revoked: int
    provider_keys_deleted: int
    members_removed: int


def user_data_export(user: User) -> dict[str, Any]:
    """Return everything held about the person, as JSON-ready values; audited."""
    with transaction.atomic():
        record_for_user(user, EXPORT_ACTION, target=user)
        return {
            "format": EXPORT_FORMAT,
            "exported_at": _iso(timezone.now()),
            "profile": _profile(user),
            "memberships": _memberships(user),
            "api_keys_created": _api_keys(user),
            "sign_in": _sign_in(user),
            "audit_events": _audit_events(user),
        }


def deletion_confirmed(user: User, *, password: str = "", username: str = "") -> bool:
    """Return True if the person re-entered their password.

    Someone who has no usable password (they sign in another way) types their
    username instead.
    """
    # Counted before the (slow) check, atomically, so parallel guesses cannot
    # all slip under the limit; a right answer ends in deletion anyway.
    attempts = f"privacy:confirm-attempts:{user.pk}"
    cache.add(attempts, 0, timeout=CONFIRM_WINDOW_SECONDS)
    try:
        count = cache.incr(attempts)
    except ValueError:  # the window ended between the two calls
        count = 1
    if count > CONFIRM_FAILURES_ALLOWED:
        raise TooManyAttempts(
            "Too many wrong attempts to confirm; try again in a quarter of an hour."
        )
    if user.has_usable_password():
        confirmed = bool(password) and user.check_password(password)
    else:
        typed, expected = username.encode(), user.get_username().encode()
        confirmed = bool(typed) and hmac.compare_digest(typed, expected)
    if not confirmed:
        # A stolen session must not become a way to guess the password.
        with transaction.atomic():
            record_for_user(
                user,
                CONFIRM_FAILED_ACTION,
                target=user,
                outcome=AuditEvent.Outcome.FAILURE,
            )
    return confirmed


def deletion_plan(user: User, *, lock: bool = False) -> DeletionPlan:
    """Sort the person's organisations by what their account deletion does there.

    With ``lock``, inside a transaction, the organisations and their members
    stay as read until it ends, so two owners leaving at once cannot both
    believe the other stays.
    """
    with user_context(user.pk):
        own = Membership.objects.filter(user_id=user.pk).select_related("organization")
        memberships = list(own.order_by("organization_id"))
    if lock:
        # The organisations first, in id order, as organization_delete does.
        ids = [membership.organization_id for membership in memberships]
        locked = Organization.objects.select_for_update().filter(pk__in=ids)
        list(locked.order_by("pk"))
    blocking, deleted, leaving = [], [], []
    for membership in memberships:
        with tenant_context(membership.organization_id):
            members = Membership.objects.for_organization(membership.organization_id)
            if lock:
                members = members.select_for_update()
            others = [
                role
                for user_id, role in members.order_by("pk").values_list("user", "role")
                if user_id != user.pk
            ]
        owner = membership.role == Membership.Role.OWNER
        if owner and not others:
            deleted.append(membership.organization)
        elif owner and Membership.Role.OWNER not in others:
            blocking.append(membership.organization)
        else:
            leaving.append(membership)
    return DeletionPlan(blocking, deleted, leaving)


def user_delete(user: User) -> DeletionPlan:
    """Delete the person's account, or raise PrivacyError if it must wait.

    In one transaction: record the deletion, delete the organisations they
    own with no one else in them, leave the others, unlink the gateway keys they
    created (the keys belong to projects and keep working), pseudonymise them
    in every audit record, and strip the user row of everything personal.
    The row itself stays, inactive, so its id is never given to anyone else.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        plan = deletion_plan(user, lock=True)
        if plan.blocking:
            raise PrivacyError(plan.refusal())
        record_for_user(user, USER_DELETE_ACTION, target=user)
        for organization in plan.deleted:
            organization_delete(organization)
        for membership in plan.leaving:
            membership_remove(membership=membership)
        # The person's keys across organisations: one narrow cross-tenant write.
        with platform_context():
            ApiKey.objects.filter(created_by=user).update(created_by=None)
        _forget_sign_in(user)
        # Anonymised first: the database pseudonymises only a deleted account.
        _anonymise(user)
        pseudonymise_actor(user.pk, pseudonym_for(user.pk))
    logger.info("user deleted id=%s", user.pk)
    return plan


def _sign_in(user: User) -> dict[str, Any]:
    """How the person signs in: addresses, second factors, linked accounts,
    sessions and management tokens; never a secret, hash or session key."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount
    from allauth.usersessions.models import UserSession

    from accounts.models import ManagementToken

    return {
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "second_factors": [
            {
                "type": a.type,
                "name": (a.data or {}).get("name", "") if a.type == "webauthn" else "",
                "created_at": _iso(a.created_at),
                "last_used_at": _iso(a.last_used_at),
            }
            for a in Authenticator.objects.filter(user=user).order_by("pk")
        ],
        "linked_accounts": [
            {"provider": a.provider, "uid": a.uid, "linked_at": _iso(a.date_joined)}
            for a in SocialAccount.objects.filter(user=user).order_by("pk")
        ],
        "sessions": [
            {
                "ip": s.ip,
                "user_agent": s.user_agent,
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
            }
            for s in UserSession.objects.filter(user=user).order_by("pk")
        ],
        "management_tokens": [
            {
                "id": t.public_id,
                "name": t.name,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "expires_at": _iso(t.expires_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in ManagementToken.objects.filter(user=user).order_by("pk")
        ],
    }


def _forget_sign_in(user: User) -> None:
    """Delete the person's sign-in records: the user row stays (its id is
    never reused), so nothing cascades to them on its own."""
    from django.contrib.sessions.models import Session

    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount
    from allauth.usersessions.models import UserSession
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import ManagementToken

    keys = list(
        UserSession.objects.filter(user=user).values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=keys).delete()
    for model in (
        EmailAddress,
        Authenticator,
        SocialAccount,
        UserSession,
        ManagementToken,
        TOTPDevice,
        StaticDevice,
    ):
        model.objects.filter(user=user).delete()


def pseudonym_for(user_id: int) -> str:
    """The name a deleted person's audit records show in place of their email."""
    salt = hmac.new(
        settings.SECRET_KEY.encode(), b"warden:audit-pseudonym", hashlib.sha256
    ).digest()
    digest = hmac.new(salt, str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"deleted-user-{digest[:12]}"


def organization_delete(organization: Organization) -> OrganizationDeletion:
    """Delete the organisation, crypto-shredding what it stored.

    In one transaction: record the deletion, revoke every gateway key, delete
    the provider keys, mark it deleted, destroy its data key (so stored
    request text can never be decrypted) and remove its members. The row,
    its projects, usage records and audit trail stay, as retention requires.
    """
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.deleted_at is not None:
            raise PrivacyError(f"organisation {organization.slug} is already deleted")
        with tenant_context(organization):
            keys = ApiKey.objects.for_organization(organization)
            live_keys = list(keys.filter(revoked_at__isnull=True).order_by("pk"))
            credentials = ProviderCredential.objects.for_organization(organization)
            stored = list(credentials.order_by("pk"))
            members = Membership.objects.for_organization(organization)
            result = OrganizationDeletion(len(live_keys), len(stored), members.count())
            record(
                ORGANIZATION_DELETE_ACTION,
                organization=organization,
                target=organization,
                before={
                    "name": organization.name,
                    "slug": organization.slug,
                    "plan": organization.plan,
                },
                detail=asdict(result),
            )
            for api_key in live_keys:
                api_key_revoke(api_key=api_key)
            for credential in stored:
                provider_credential_delete(credential=credential)
            organization.deleted_at = timezone.now()
            organization.save(update_fields=["deleted_at"])
            organization_data_key_destroy(organization=organization)
            members.delete()
    logger.info("organization deleted id=%s", organization.pk)
    return result


def _anonymise(user: User) -> None:
    user.username = f"deleted-{user.pk}"
    user.email = None
    user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.last_login = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    # The admin's history names the account as it was when edited there.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=user.username)


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "has_password": user.has_usable_password(),
    }


def _memberships(user: User) -> list[dict[str, Any]]:
    with user_context(user.pk):
        memberships = (
            Membership.objects.filter(user_id=user.pk)
            .select_related("organization")
            .order_by("created_at")
        )
        return [
            {
                "organization": membership.organization.slug,
                "organization_name": membership.organization.name,
                "role": membership.role,
                "since": _iso(membership.created_at),
            }
            for membership in memberships
        ]


def _api_keys(user: User) -> list[dict[str, Any]]:
    # The keys the person created, in whichever organisation: their own data,
    # so this read crosses tenants. Metadata only, never the secret's hash.
    with platform_context():
        keys = (
            ApiKey.objects.filter(created_by=user)
            .select_related("organization", "project")
            .order_by("created_at")
        )
        return [
            {
                "organization": key.organization.slug,
                "project": key.project.slug,
                "name": key.name,
                "key": key.masked,
                "environment": key.environment,
                "limits": key.limits,
                "created_at": _iso(key.created_at),
                "last_used_at": _iso(key.last_used_at),
                "expires_at": _iso(key.expires_at),
                "revoked_at": _iso(key.revoked_at),
            }
            for key in keys
        ]


def _audit_events(user: User) -> list[dict[str, Any]]:
    # Every chain's records of what the person did or that were about them
    # (sign-in attempts, changes to their account): a cross-tenant read of
    # their own records only.
    mine = Q(actor_type="user", actor_id=str(user.pk)) | Q(
        target_type=user._meta.label_lower, target_id=str(user.pk)
    )
    with platform_context():
        events = (
            AuditEvent.objects.filter(mine)
            .select_related("organization")
            .order_by("created_at", "id")
        )
        return [_event(event) for event in events.iterator(chunk_size=1000)]


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "organization": event.organization.slug if event.organization else None,
        "seq": event.seq,
        "created_at": _iso(event.created_at),
        "action": event.action,
        "outcome": event.outcome,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "before": _parsed(event.before),
        "after": _parsed(event.after),
        "detail": _parsed(event.detail),
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
    }


def _parsed(text: str) -> Any:
    return json.loads(text) if text else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
