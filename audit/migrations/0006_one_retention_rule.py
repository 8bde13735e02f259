from django.db import migrations

from audit import sql


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in sql.SHARED_RETENTION_FORWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    """The retention rule becomes one function every purge calls."""

    dependencies = [("audit", "0005_retention_trusts_the_database")]

    # Going back leaves the function and the purge calling it: 0005's own
    # reversal drops both.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
