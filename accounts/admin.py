from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from accounts.models import Membership, Organization, Project, User
from audit.admin import AuditedAdmin
from keys.usage_now import describe_budgets, project_budget_usage


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    """People are deleted through ``delete_user`` or their own page, which
    hand over ownership, pseudonymise their audit records and keep the id.
    """

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    """Organisations are not deleted here: deletion has its own flow."""

    list_display = ["slug", "name", "plan", "store_request_text", "created_at"]
    search_fields = ["slug", "name"]
    # The policy is set with ``set_limits_policy``, which also refreshes the
    # workers' cached keys.
    readonly_fields = ["deleted_at", "limits_fail_open"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    """Projects are not deleted here: their keys would keep working from the
    workers' cache. ``accounts.services.project_delete`` refuses that case.
    """

    list_display = ["slug", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["slug", "organization__slug"]
    # Budgets are set through the API or ``set_project_budget``, which also
    # refresh the workers' cached keys.
    readonly_fields = ["limits", "use_of_budgets"]

    @admin.display(description="use of its budgets (settled)")
    def use_of_budgets(self, obj: Project) -> str:
        return describe_budgets(project_budget_usage(obj)) if obj.pk else ""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "organization", "role"]
    list_select_related = ["user", "organization"]


# Sign-in records of django-allauth and django-otp. Secrets (TOTP keys,
# passkey data, OAuth tokens and apps) are never shown: those admins are
# removed, and the rest derive from AuditedAdmin like every other.
def _replace_admin(model, admin_class=None) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    if admin_class is not None:
        admin.site.register(model, admin_class)


class EmailAddressAdmin(AuditedAdmin):
    list_display = ("email", "user", "primary", "verified")
    search_fields = ("email",)
    raw_id_fields = ("user",)


class SocialAccountAdmin(AuditedAdmin):
    list_display = ("user", "provider", "uid", "last_login")
    readonly_fields = ("user", "provider", "uid", "last_login", "date_joined")
    exclude = ("extra_data",)

    def has_add_permission(self, request):
        return False


class UserSessionAdmin(AuditedAdmin):
    list_display = ("user", "ip", "created_at", "last_seen_at")
    readonly_fields = ("user", "ip", "created_at", "last_seen_at", "user_agent")
    exclude = ("session_key", "data")

    def has_add_permission(self, request):
        return False


def _sign_in_admins() -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from allauth.usersessions.models import UserSession
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _replace_admin(EmailAddress, EmailAddressAdmin)
    _replace_admin(SocialAccount, SocialAccountAdmin)
    _replace_admin(UserSession, UserSessionAdmin)
    for model in (Authenticator, SocialApp, SocialToken, StaticDevice, TOTPDevice):
        _replace_admin(model)


_sign_in_admins()
