"""Row-level security for tenant-owned tables, as a migration operation.

Each table that carries an ``organization_id`` gets ``ENABLE`` and ``FORCE
ROW LEVEL SECURITY`` (so the table's owner is bound too) and two policies: a
row is visible and writable when its organisation is the transaction's
``warden.organization_id``, or when the transaction is a platform one
(``accounts.tenancy.platform_context``). Nothing happens on SQLite.
"""

from __future__ import annotations

from django.db import migrations

from accounts.tenancy import ORGANIZATION_SETTING, PLATFORM_SETTING, USER_SETTING

_TENANT = (
    f"organization_id = NULLIF(current_setting('{ORGANIZATION_SETTING}', true), '')"
    "::bigint"
)
_PLATFORM = f"current_setting('{PLATFORM_SETTING}', true) = 'on'"
_OWN_ROWS = f"user_id = NULLIF(current_setting('{USER_SETTING}', true), '')::bigint"


def enable_sql(table: str, *, user_rows: bool = False) -> list[str]:
    statements = [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'CREATE POLICY tenant_isolation ON "{table}" '
        f"USING ({_TENANT}) WITH CHECK ({_TENANT})",
        f'CREATE POLICY platform_access ON "{table}" '
        f"USING ({_PLATFORM}) WITH CHECK ({_PLATFORM})",
    ]
    if user_rows:
        # A signed-in person lists the organisations they belong to.
        statements.append(
            f'CREATE POLICY own_rows ON "{table}" FOR SELECT USING ({_OWN_ROWS})'
        )
    return statements


def disable_sql(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS own_rows ON "{table}"',
        f'DROP POLICY IF EXISTS platform_access ON "{table}"',
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Isolate a model's table by organisation in PostgreSQL."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, *, user_rows: bool = False):
        self.model_name = model_name
        self.user_rows = user_rows

    def deconstruct(self):
        kwargs = {"user_rows": True} if self.user_rows else {}
        return self.__class__.__qualname__, [self.model_name], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, to_state, app_label, enable=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, from_state, app_label, enable=False)

    def describe(self):
        return f"Enable row-level security on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"

    def _run(self, schema_editor, state, app_label, *, enable: bool) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = state.apps.get_model(app_label, self.model_name)._meta.db_table
        sql = enable_sql(table, user_rows=self.user_rows) if enable else None
        for statement in sql or disable_sql(table):
            schema_editor.execute(statement)
