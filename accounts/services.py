"""Organisations and projects."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Organization, Project
from accounts.tenancy import tenant_context


def organization_create(
    *, slug: str, name: str = "", plan: str = "free"
) -> Organization:
    with transaction.atomic():
        organization = Organization.objects.create(
            slug=slug, name=name or slug, plan=plan
        )
    return organization


def project_create(*, organization: Organization, slug: str, name: str = "") -> Project:
    with tenant_context(organization):
        return Project.objects.create(
            organization=organization, slug=slug, name=name or slug
        )


def organization_by_slug(slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


def project_by_slug(organization: Organization, slug: str) -> Project:
    with tenant_context(organization):
        return Project.objects.for_organization(organization).get(slug=slug)
