from django.contrib import admin

from keys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only view of gateway keys; the hash is never shown."""

    list_display = [
        "name",
        "masked",
        "organization",
        "project",
        "created_at",
        "revoked_at",
    ]
    list_select_related = ["organization", "project"]
    fields = [
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
    ]
    readonly_fields = fields
    search_fields = ["name", "public_id", "organization__slug"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
