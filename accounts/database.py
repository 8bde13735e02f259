"""The database roles: the owner that migrates, the application that serves.

Migrations run as the role that owns the tables. The application connects as
``DATABASE_APP_ROLE``: not a superuser, no BYPASSRLS, owner of nothing, so
row-level security binds it. After every ``migrate`` the owner grants that role
what it needs, and on append-only tables no more than reading and inserting.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

_append_only: set[str] = set()
_gateway_read_only: set[str] = set()


def append_only(model):
    """Class decorator: the application role may only read and insert rows."""
    _append_only.add(model._meta.db_table)
    return model


def append_only_tables() -> frozenset[str]:
    return frozenset(_append_only)


def gateway_read_only(model):
    """Class decorator: the gateway's database role may read rows, never write."""
    _gateway_read_only.add(model._meta.db_table)
    return model


def gateway_read_only_tables() -> frozenset[str]:
    return frozenset(_gateway_read_only)


def grant_gateway_role(using: str = "default", *, role: str | None = None) -> bool:
    """Grant the gateway's role the application's privileges, less writing keys.

    A process serving only ``/v1`` reads provider credentials and data keys to
    call providers; only the api role stores or changes them.
    """
    role = role if role is not None else settings.DATABASE_GATEWAY_ROLE
    if not grant_app_role(using, role=role):
        return False
    connection = connections[using]
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        for table in sorted(_gateway_read_only):
            cursor.execute(
                "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "
                f"{connection.ops.quote_name(table)} FROM {quoted}"
            )
    return True


def grant_app_role(using: str = "default", *, role: str | None = None) -> bool:
    """Grant the application role its privileges; False when there is none."""
    connection = connections[using]
    role = role if role is not None else settings.DATABASE_APP_ROLE
    if connection.vendor != "postgresql" or not role:
        return False
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return False
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
            f"TO {quoted}"
        )
        cursor.execute(
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"
        )
        # Functions the owner defines for the app (the audit purge, say) are
        # revoked from PUBLIC by their migrations and granted here.
        cursor.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {quoted}")
        for table in sorted(_append_only):
            cursor.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(table)}"
                f" FROM {quoted}"
            )
    return True


def role_problems(using: str = "default") -> list[str]:
    """Why the connected role could escape row-level security, if it could."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user"
        )
        user, superuser, bypass, createrole = cursor.fetchone()
        if superuser:
            problems.append(f"database role {user!r} is a superuser")
        if bypass:
            problems.append(f"database role {user!r} has BYPASSRLS")
        if createrole:
            # It could grant itself the owner's role.
            problems.append(f"database role {user!r} has CREATEROLE")
        # A role it can SET ROLE to, or inherits from, counts as its own.
        cursor.execute(
            "SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM pg_roles "
            "WHERE (rolsuper OR rolbypassrls OR rolcreaterole) "
            "AND rolname <> current_user "
            "AND pg_has_role(current_user, oid, 'MEMBER')"
        )
        if privileged := cursor.fetchone()[0]:
            problems.append(
                f"database role {user!r} is a member of {privileged}, which "
                "bypass row-level security or can grant themselves the owner"
            )
        cursor.execute(
            "SELECT pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database "
            "WHERE datname = current_database()"
        )
        if cursor.fetchone()[0]:
            problems.append(
                f"database role {user!r} owns the database (it may drop the tables)"
            )
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND c.relkind = 'r' AND c.relrowsecurity "
            # Owning, or belonging to a role that owns: either may ALTER
            # the table, its policies and its triggers.
            "AND pg_has_role(current_user, c.relowner, 'MEMBER')"
        )
        if cursor.fetchone()[0]:
            problems.append(
                f"database role {user!r} owns the tenant tables (or is a member "
                "of their owner); connect as "
                "DATABASE_APP_ROLE and migrate as the owner"
            )
    return problems


def refuse_unsafe_role() -> None:
    """Raise ConfigError in production when row-level security would not bind."""
    from gateway_project.env import ConfigError

    if settings.DEBUG:
        return
    problems = role_problems()
    connections["default"].close()
    if problems:
        raise ConfigError(
            "; ".join(problems) + " (row-level security would not isolate tenants)"
        )
