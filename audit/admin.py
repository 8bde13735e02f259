"""Every change made through the Django admin goes on the audit trail.

Each ModelAdmin of the project derives from ``AuditedAdmin``, which records
what the admin logs (additions, changes, deletions, bulk deletions too) as
``admin.added``, ``admin.changed`` and ``admin.deleted``; the system check
below refuses an admin that does not. Custom admin actions call services,
which record their own events.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core import checks
from django.db import models
from django.http import HttpRequest

from accounts.models import Organization
from audit.context import Actor
from audit.services import record


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every logged change is also an audit record.

    The admin's requests run in one platform transaction
    (``accounts.middleware.PlatformAdminMiddleware``), so a record and its
    change commit or roll back together.
    """

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        if change:
            # The log entry names the changed fields; the record keeps their
            # values too (masked like any other, so a secret field never shows),
            # except a person's: those outlive the person's erasure.
            obj._audit_values = (
                (None, {"changed": sorted(form.changed_data)})
                if _is_person(obj)
                else _changed_values(form)
            )
        super().save_model(request, obj, form, change)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        record_admin_change("admin.added", request, [(obj, entry)])
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        record_admin_change("admin.changed", request, [(obj, entry)])
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        # Called before the rows go, for one object and for a bulk delete alike.
        # Django itself passes a list for one object; the stubs say QuerySet.
        doomed = list(queryset)
        entries = super().log_deletions(request, doomed)  # type: ignore[arg-type]
        logged = entries if isinstance(entries, list) else [entries]
        record_admin_change(
            "admin.deleted", request, list(zip(doomed, logged, strict=True))
        )
        return entries


class ReadOnlyAdmin(AuditedAdmin):
    """Shown to staff, never added, changed or deleted here: such rows change
    only through their services, or not at all."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def record_admin_change(
    action: str, request: HttpRequest, changes: list[tuple[Any, LogEntry]]
) -> None:
    """Record each (object, log entry) on its organisation's chain or the platform's."""
    actor = Actor.user(request.user)
    # The platform's chain first, then by organisation: the order heads are
    # locked in everywhere, so two bulk deletions cannot deadlock.
    for obj, entry in sorted(changes, key=lambda change: _chain_order(change[0])):
        before, after = getattr(obj, "_audit_values", (None, None))
        record(
            action,
            organization=organization_of(obj),
            target=obj,
            actor=actor,
            before=before,
            after=after,
            detail={
                "object": f"user {obj.pk}" if _is_person(obj) else entry.object_repr,
                "change": entry.get_change_message(),
                "log_entry": entry.pk,
            },
        )


def organization_of(obj: models.Model) -> int | None:
    """Return the organisation that owns ``obj``, None for platform objects."""
    if isinstance(obj, Organization):
        return obj.pk
    return getattr(obj, "organization_id", None)


def _is_person(obj: Any) -> bool:
    return isinstance(obj, get_user_model())


def _changed_values(form: Any) -> tuple[dict, dict]:
    """Return the changed fields' values before and after the form."""
    names = form.changed_data
    before = {name: _plain(form.initial.get(name)) for name in names}
    after = {name: _plain(form.cleaned_data.get(name)) for name in names}
    return before, after


def _plain(value: Any) -> Any:
    """A form value as JSON can hold it: rows (and lists of rows) by primary key."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet):
        value = list(value)
    if isinstance(value, list | tuple) and value:
        if all(isinstance(item, models.Model) for item in value):
            return sorted(item.pk for item in value)
    return value


def _chain_order(obj: models.Model) -> tuple[bool, int]:
    organization_id = organization_of(obj)
    return organization_id is not None, organization_id or 0


@checks.register(checks.Tags.admin)
def check_admins_are_audited(app_configs: Any = None, **kwargs: Any) -> list:
    return [
        checks.Error(
            f"The admin of {model._meta.label} does not audit its changes.",
            hint="Derive its ModelAdmin from audit.admin.AuditedAdmin.",
            obj=type(model_admin),
            id="audit.E001",
        )
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdmin)
    ]
