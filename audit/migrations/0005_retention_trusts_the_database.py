import django.utils.timezone
from django.db import migrations, models

from audit import sql


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in sql.RETENTION_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in sql.RETENTION_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_retention_in_range"),
        ("audit", "0004_actor_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="recorded_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["organization", "recorded_at"],
                name="audit_audit_organiz_cb6f1a_idx",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
