from django.contrib import admin

from audit.admin import ReadOnlyAdmin
from guardrails.models import CustomRule, GuardrailEvent, GuardrailPolicy


# Changed only through the services (API and commands), which validate,
# audit and compile what they store.
@admin.register(GuardrailPolicy)
class GuardrailPolicyAdmin(ReadOnlyAdmin):
    list_display = ["organization", "project", "updated_at"]
    list_select_related = ["organization", "project"]


@admin.register(CustomRule)
class CustomRuleAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "kind", "action", "applies_to", "enabled"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__slug"]


@admin.register(GuardrailEvent)
class GuardrailEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "detector", "type", "action"]
    list_filter = ["detector", "action", "direction"]
    list_select_related = ["organization"]
    search_fields = ["request_id", "organization__slug"]
