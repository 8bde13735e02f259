from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("guardrails", "0001_policies_rules_events"),
        ("accounts", "0006_project_budgets_and_limits_policy"),
    ]

    operations = [
        EnableRowLevelSecurity("GuardrailPolicy"),
        EnableRowLevelSecurity("CustomRule"),
        EnableRowLevelSecurity("GuardrailEvent"),
    ]
