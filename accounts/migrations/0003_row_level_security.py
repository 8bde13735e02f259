from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organization_retention_and_text"),
    ]

    operations = [
        EnableRowLevelSecurity("Project"),
        EnableRowLevelSecurity("Membership", user_rows=True),
    ]
