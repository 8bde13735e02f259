"""PostgreSQL itself keeps tenants apart: row-level security, as the app role."""

from __future__ import annotations

import os
import subprocess
import sys

from django.apps import apps
from django.conf import settings
from django.db import ProgrammingError, connection, transaction

import dj_database_url
import pytest

from accounts.database import role_problems
from accounts.models import Membership, Organization, Project
from accounts.tenancy import (
    current_organization_id,
    platform_context,
    tenant_context,
    user_context,
)
from keys.models import ApiKey
from tests.conftest import ROOT, _database_url
from tests.factories import make_tenant

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def raw_ids(table: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT organization_id FROM "{table}"')  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def two():
    return make_tenant(), make_tenant()


def test_the_suite_runs_as_a_role_that_row_level_security_binds():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
    assert role_problems() == []


def test_with_no_tenant_set_nothing_is_visible(two):
    assert ApiKey.objects.count() == 0
    assert Project.objects.count() == 0
    assert raw_ids(ApiKey._meta.db_table) == set()
    # The organisations themselves are not tenant rows.
    assert Organization.objects.filter(pk=two[0].organization.pk).exists()


def test_a_tenant_sees_only_its_own_rows_through_orm_and_raw_sql(two):
    a, b = two
    with tenant_context(a.organization):
        # No filter at all: the database applies it.
        assert list(ApiKey.objects.values_list("pk", flat=True)) == [a.api_key.pk]
        assert raw_ids(ApiKey._meta.db_table) == {a.organization.pk}
        assert raw_ids(Project._meta.db_table) == {a.organization.pk}
        assert not ApiKey.objects.filter(pk=b.api_key.pk).exists()
    with tenant_context(b.organization):
        assert raw_ids(ApiKey._meta.db_table) == {b.organization.pk}


def test_writing_a_row_for_another_tenant_fails(two):
    a, b = two
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_context(a.organization):
            Project.objects.create(organization=b.organization, slug="smuggled")
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_context(a.organization):
            with connection.cursor() as cursor:
                cursor.execute(
                    'INSERT INTO "accounts_project" (organization_id, name, slug, '
                    "created_at) VALUES (%s, 'x', 'x', now())",
                    [b.organization.pk],
                )
    with platform_context():
        assert not Project.objects.filter(slug__in=["smuggled", "x"]).exists()


def test_updates_and_deletes_cannot_reach_another_tenants_rows(two):
    a, b = two
    with tenant_context(a.organization):
        assert ApiKey.objects.filter(pk=b.api_key.pk).update(name="taken") == 0
        assert ApiKey.objects.filter(pk=b.api_key.pk).delete()[0] == 0
        with connection.cursor() as cursor:
            cursor.execute("UPDATE keys_apikey SET name = 'taken'")
            assert cursor.rowcount == 1  # its own key only
    with platform_context():
        assert ApiKey.objects.get(pk=b.api_key.pk).name != "taken"


def test_inner_contexts_hand_the_outer_one_its_tenant_back(two):
    a, b = two
    with tenant_context(a.organization):
        with tenant_context(b.organization):
            assert current_organization_id() == b.organization.pk
        assert current_organization_id() == a.organization.pk
        with pytest.raises(RuntimeError):
            with tenant_context(b.organization):
                raise RuntimeError
        assert raw_ids(ApiKey._meta.db_table) == {a.organization.pk}
    assert current_organization_id() is None


def test_a_person_sees_their_own_memberships_across_organisations(
    two, django_user_model
):
    a, b = two
    user = django_user_model.objects.create_user("member", "m@example.com", "pw")
    other = django_user_model.objects.create_user("other", "o@example.com", "pw")
    for tenant in two:
        with tenant_context(tenant.organization):
            Membership.objects.create(organization=tenant.organization, user=user)
    with tenant_context(a.organization):
        Membership.objects.create(organization=a.organization, user=other)

    with user_context(user.pk):
        mine = set(Membership.objects.values_list("organization_id", flat=True))
        assert mine == {a.organization.pk, b.organization.pk}
        assert not Membership.objects.filter(user=other).exists()
        # Seeing is not writing.
        assert Membership.objects.filter(user=user).update(role="owner") == 0


@pytest.mark.django_db(transaction=True)
def test_nothing_leaks_to_the_next_transaction_on_the_same_connection():
    a = make_tenant()
    with tenant_context(a.organization):
        assert raw_ids(ApiKey._meta.db_table) == {a.organization.pk}
    with platform_context():
        pass
    backend_pid = connection.connection.info.backend_pid
    with transaction.atomic():
        assert connection.connection.info.backend_pid == backend_pid
        assert current_organization_id() is None
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('warden.cross_tenant', true)")
            assert cursor.fetchone()[0] in (None, "")
        assert raw_ids(ApiKey._meta.db_table) == set()


def tenant_models():
    for model in apps.get_models():
        fields = {f.name: f for f in model._meta.get_fields()}
        field = fields.get("organization")
        if field is not None and getattr(field, "related_model", None) is Organization:
            yield model


def test_every_table_with_an_organisation_column_is_isolated():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "array(SELECT polname FROM pg_policy p WHERE p.polrelid = c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "AND a.attname = 'organization_id' AND NOT a.attisdropped"
        )
        tables = {name: (rls, force, set(p)) for name, rls, force, p in cursor}
    expected = {model._meta.db_table for model in tenant_models()}
    assert expected <= set(tables), "a tenant model's table has no organization_id"
    assert len(expected) >= 6
    unprotected = {
        name: state
        for name, state in tables.items()
        if not (state[0] and state[1] and "tenant_isolation" in state[2])
    }
    assert unprotected == {}, "add EnableRowLevelSecurity to the table's migration"


def run_gateway_import(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import gateway_project.asgi"],
        cwd=ROOT,
        env=dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="gateway_project.settings",
            DEBUG="false",
            AUTH_SECRET="s" * 64,
            MASTER_KEYS="k1:" + "A" * 43 + "=",
            ALLOWED_HOSTS="gateway.example",
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_as_a_role_that_bypasses_isolation():
    owner_url = _database_url().replace(
        f"{settings.DATABASE_APP_ROLE}@", f"{connection_owner()}@", 1
    )
    refused = run_gateway_import(DATABASE_URL=owner_url)
    assert refused.returncode == 3, refused.stderr
    assert "superuser" in refused.stderr or "owns the tenant" in refused.stderr
    assert "row-level security" in refused.stderr

    started = run_gateway_import(DATABASE_URL=_database_url())
    assert started.returncode == 0, started.stderr


def connection_owner() -> str:
    """The role the suite created and migrated the test database as."""
    return dj_database_url.parse(os.environ["DATABASE_URL"])["USER"]
