from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0001_encrypted_credentials"),
        ("accounts", "0003_row_level_security"),
    ]

    operations = [
        EnableRowLevelSecurity("DataKey"),
        EnableRowLevelSecurity("ProviderCredential"),
    ]
