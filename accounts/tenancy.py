"""Tenant scoping, in the application and in PostgreSQL itself.

Every tenant-owned row is read through ``TenantManager.for_organization`` and
inside ``tenant_context``, which opens a transaction and sets the
transaction-local ``warden.organization_id`` that the row-level security
policies compare each row with. Work that must cross tenants (authentication
by key id, the retention purge, the platform admin) goes through
``platform_context`` instead, and nowhere else.

On SQLite, the quick-start database, the contexts only open the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connections, models, transaction

if TYPE_CHECKING:
    from accounts.models import Organization

ORGANIZATION_SETTING = "warden.organization_id"
USER_SETTING = "warden.user_id"
PLATFORM_SETTING = "warden.cross_tenant"


def organization_id(organization: Organization | int) -> int:
    return organization if isinstance(organization, int) else organization.pk


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization | int) -> TenantQuerySet:
        return self.filter(organization_id=organization_id(organization))


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Manager of every model that carries an ``organization`` column."""

    def for_organization(self, organization: Any) -> TenantQuerySet:
        return self.get_queryset().for_organization(organization)


@contextmanager
def tenant_context(
    organization: Organization | int, *, using: str = "default"
) -> Iterator[None]:
    """Run the block in a transaction that sees only ``organization``'s rows."""
    with _scoped(ORGANIZATION_SETTING, str(organization_id(organization)), using):
        yield


@contextmanager
def user_context(user_id: int, *, using: str = "default") -> Iterator[None]:
    """Run the block in a transaction that also sees the user's own memberships."""
    with _scoped(USER_SETTING, str(user_id), using):
        yield


@contextmanager
def platform_context(*, using: str = "default") -> Iterator[None]:
    """Run the block in a transaction that sees every tenant's rows.

    Only for work that must cross tenants; what it changes is audited by the
    caller, as any other change.
    """
    with _scoped(PLATFORM_SETTING, "on", using):
        yield


def current_organization_id(using: str = "default") -> int | None:
    value = _read(ORGANIZATION_SETTING, using)
    return int(value) if value else None


@contextmanager
def _scoped(name: str, value: str, using: str) -> Iterator[None]:
    connection = connections[using]
    nested = connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor != "postgresql":
            yield
            return
        previous = _read(name, using) if nested else ""
        _write(name, value, using)
        yield
        # A transaction-local setting outlives a released savepoint, so an
        # inner context hands the outer one its value back. When the block
        # raises, the savepoint's rollback restores it by itself.
        if nested:
            _write(name, previous, using)


def _read(name: str, using: str) -> str:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0] or ""


def _write(name: str, value: str, using: str) -> None:
    with connections[using].cursor() as cursor:
        # is_local=true: the value ends with the transaction, so it never
        # leaks to the next user of a pooled connection.
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def owned_or_404(
    model: Any, organization: Any, what: str, *, related: tuple = (), **filters: Any
) -> Any:
    """The organisation's one ``model`` row matching ``filters``, read in its
    tenant context, or Http404 ("No such <what>.") for any other organisation's
    or none at all: the pages and the API look their objects up here."""
    from django.http import Http404

    with tenant_context(organization):
        found = (
            model.objects.for_organization(organization)
            .select_related(*related)
            .filter(**filters)
            .first()
        )
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def project_slugs(organization: Any) -> list[str]:
    """The organisation's project slugs, in order (for form choices)."""
    from accounts.models import Project

    with tenant_context(organization):
        return list(
            Project.objects.for_organization(organization)
            .order_by("slug")
            .values_list("slug", flat=True)
        )
