from django.db import migrations

from guardrails import sql


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in sql.FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in sql.BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("guardrails", "0002_row_level_security"),
        ("audit", "0006_one_retention_rule"),
    ]

    operations = [migrations.RunPython(forward, backward)]
