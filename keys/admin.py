from django.contrib import admin, messages

from audit.admin import ReadOnlyAdmin
from keys.models import ApiKey
from keys.services import api_key_revoke
from keys.usage_now import budget_usage, describe, describe_budgets, usage_now


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Read-only view of gateway keys; the hash is never shown.

    Keys are revoked, never deleted: a deleted row would lose its usage history,
    and revoking is what drops the key from every worker's cache.
    """

    list_display = [
        "name",
        "masked",
        "organization",
        "project",
        "created_at",
        "revoked_at",
    ]
    list_select_related = ["organization", "project"]
    readonly_fields = (
        "name",
        "masked",
        "organization",
        "project",
        "environment",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "limits",
        "use_of_limits",
        "use_of_budgets",
    )
    fields = readonly_fields
    search_fields = ["name", "public_id", "organization__slug"]

    actions = ["revoke"]

    @admin.display(description="use of its limits now")
    def use_of_limits(self, obj: ApiKey) -> str:
        return describe(usage_now(obj.lineage_id, obj.limits or {}))

    @admin.display(description="use of its budgets (settled)")
    def use_of_budgets(self, obj: ApiKey) -> str:
        return describe_budgets(budget_usage(obj))

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
        self.message_user(request, "Keys revoked.", messages.SUCCESS)
