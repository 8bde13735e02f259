"""Organisations and people for the audit review tests: one of each role."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from unittest import mock

from accounts.models import Membership, Organization, User
from accounts.services import email_mark_verified, organization_create
from accounts.tenancy import tenant_context
from audit.context import Actor
from audit.models import AuditEvent
from audit.services import record

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass
class People:
    organization: Organization
    owner: User
    admin: User
    member: User
    viewer: User
    outsider: User

    @property
    def slug(self) -> str:
        return self.organization.slug


def make_people() -> People:
    number = next(_numbers)
    organization = organization_create(slug=f"review-{number}")
    users = {
        role: make_user(f"{role}-{number}", organization, role)
        for role in ("owner", "admin", "member", "viewer")
    }
    return People(organization, **users, outsider=make_user(f"outsider-{number}"))


def make_user(
    name: str,
    organization: Organization | None = None,
    role: str = "",
    password: str | None = None,  # hashing is slow: only for real sign-ins
) -> User:
    user = User.objects.create_user(
        username=name, email=f"{name}@example.com", password=password
    )
    if password is not None:
        email_mark_verified(user)
    if organization is not None:
        with tenant_context(organization):
            Membership.objects.create(organization=organization, user=user, role=role)
    return user


def event(organization: Organization, action: str = "thing.done", **fields: Any):
    fields.setdefault("actor", Actor("user", "7", "alice@example.com"))
    return record(action, organization=organization, **fields)


def event_at(moment: datetime, organization: Organization, action: str, **fields):
    """Record an event as if at ``moment``: rows can never be edited afterwards."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return event(organization, action, **fields)


def all_events(organization: Organization) -> list[AuditEvent]:
    with tenant_context(organization):
        return list(AuditEvent.objects.for_organization(organization))
