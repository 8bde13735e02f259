"""Fixtures every test directory shares: the database runs as the app role."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection, connections

import pytest


def services_available() -> bool:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgresql" in engine and bool(settings.REDIS_URL)


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def browser_available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


def pytest_collection_modifyitems(config, items):
    if not browser_available():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            raise pytest.UsageError(
                f"REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing"
            )
        skip_browser = pytest.mark.skip(reason="needs Debian's chromium (see README)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip_browser)
    if services_available():
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        raise pytest.UsageError(
            "REQUIRE_SERVICES=1 but DATABASE_URL/REDIS_URL do not point at "
            "PostgreSQL and Redis"
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis (see make test)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Create and migrate the test database as its owner, then run as the app role.

    Every test, and every gateway process a test starts, connects as
    DATABASE_APP_ROLE, so row-level security binds them as it binds
    production. The database is dropped as the owner again.
    """
    if connection.vendor != "postgresql":
        yield
        return
    role = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock():
        ensure_app_role(role)
    owner = connection.settings_dict.get("USER")
    _connect_as(role)
    try:
        yield
    finally:
        _connect_as(owner)


def ensure_role(role: str) -> None:
    from django.db import DatabaseError

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            try:
                cursor.execute(
                    f"CREATE ROLE {connection.ops.quote_name(role)} LOGIN "
                    "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
                )
            except DatabaseError:
                pass  # another test run on this cluster made it meanwhile


def ensure_app_role(role: str) -> None:
    from accounts.database import grant_app_role, grant_gateway_role

    ensure_role(role)
    assert grant_app_role(role=role)
    # The gateway-only role of the service-role tests, granted as migrate does.
    ensure_role(settings.DATABASE_GATEWAY_ROLE)
    assert grant_gateway_role()
    with connection.cursor() as cursor:
        # Test-only: the transactional tests' teardown empties every table
        # with TRUNCATE. Production grants the role no TRUNCATE at all.
        cursor.execute(
            "GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "
            + connection.ops.quote_name(role)
        )


def _connect_as(user: str | None) -> None:
    for alias in connections:
        connections[alias].close()
        if hasattr(connections[alias], "close_pool"):
            connections[alias].close_pool()  # its connections are the old role's
        connections[alias].settings_dict["USER"] = user
        settings.DATABASES[alias]["USER"] = user
