"""A GIN index for searching the audit trail on PostgreSQL.

The expression must stay the one in audit.selectors.SEARCH_DOCUMENT; a test
checks that PostgreSQL uses this index for the search query. Built
concurrently: audit rows are written by every audited change, and a plain
CREATE INDEX would hold them all up for as long as the build takes.
"""

from django.db import migrations

INDEX = "audit_auditevent_search"
CREATE = f"""
CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON "audit_auditevent" USING gin (
    to_tsvector('simple', action || ' ' || target_type || ' ' || target_id
        || ' ' || actor_email || ' ' || "before" || ' ' || "after"
        || ' ' || detail)
)
"""
DROP = f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0002_append_only_and_isolation")]

    operations = [migrations.RunPython(forward, backward)]
