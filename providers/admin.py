from django.contrib import admin

from providers.models import ProviderCredential


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(admin.ModelAdmin):
    """Read-only: the secret is never shown, only its hint.

    Credentials are set with ``manage.py set_provider_key`` so the plaintext
    never passes through a form that could echo it back.
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
