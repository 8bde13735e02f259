from django.contrib import admin

from audit.admin import ReadOnlyAdmin
from proxy.models import UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    """Read-only: usage is the organisation's history and its bill."""

    list_display = [
        "created_at",
        "organization",
        "model",
        "status_code",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "latency_ms",
    ]
    list_select_related = ["organization"]
    list_filter = ["status_code", "provider"]
    search_fields = ["request_id", "model"]
