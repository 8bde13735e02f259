from django.contrib import admin

from audit.admin import AuditedAdmin
from providers.models import ProviderCredential
from providers.services import provider_credential_delete


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(AuditedAdmin):
    """Read-only: the secret is never shown, only its hint.

    Credentials are set with ``manage.py set_provider_key`` so the plaintext
    never passes through a form that could echo it back. Deleting one goes
    through the service, as anywhere else.
    """

    list_display = ["provider", "organization", "project", "masked", "updated_at"]
    list_select_related = ["organization", "project"]
    readonly_fields = (
        "organization", "project", "provider", "base_url", "masked", "updated_at",
    )  # fmt: skip
    fields = readonly_fields
    search_fields = ["organization__slug", "provider"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        provider_credential_delete(credential=obj)

    def delete_queryset(self, request, queryset):
        for credential in queryset:
            provider_credential_delete(credential=credential)
