from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("proxy", "0001_usage_records"),
        ("accounts", "0003_row_level_security"),
    ]

    operations = [
        EnableRowLevelSecurity("UsageRecord"),
    ]
