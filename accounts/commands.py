"""Lookups shared by management commands, failing with a CommandError."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import Organization, Project
from accounts.services import organization_by_slug, project_by_slug


def organization_named(slug: str) -> Organization:
    try:
        return organization_by_slug(slug)
    except Organization.DoesNotExist:
        raise CommandError(f"no organisation {slug!r}") from None


def project_named(organization_slug: str, slug: str) -> Project:
    organization = organization_named(organization_slug)
    try:
        return project_by_slug(organization, slug)
    except Project.DoesNotExist:
        raise CommandError(f"no project {slug!r}") from None
