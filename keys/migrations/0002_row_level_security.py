from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_gateway_api_keys"),
        ("accounts", "0003_row_level_security"),
    ]

    operations = [
        EnableRowLevelSecurity("ApiKey"),
    ]
