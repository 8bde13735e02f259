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
