from django.db import migrations

from accounts.rls import EnableRowLevelSecurity
from audit import sql


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
        ("audit", "0001_audit_trail"),
        ("accounts", "0003_row_level_security"),
    ]

    operations = [
        EnableRowLevelSecurity("AuditEvent"),
        EnableRowLevelSecurity("AuditChain"),
        migrations.RunPython(forward, backward),
    ]
