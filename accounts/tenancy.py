"""The one way tenant-owned rows are read: always scoped to an organisation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from accounts.models import Organization


def organization_id(organization: Organization | int) -> int:
    return organization if isinstance(organization, int) else organization.pk


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization | int) -> TenantQuerySet:
        return self.filter(organization_id=organization_id(organization))


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Manager of every model that carries an ``organization`` column."""

    def for_organization(self, organization: Any) -> TenantQuerySet:
        return self.get_queryset().for_organization(organization)
