"""The API key pages of an organisation: the list, a new key shown once,
rotation (the successor shown once) and revocation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from allauth.account.decorators import reauthentication_required

from accounts import policy
from accounts.models import Organization, Project
from accounts.tenancy import owned_or_404, project_slugs, tenant_context
from keys.forms import KeyForm, RotateForm
from keys.models import ApiKey
from keys.services import (
    MAX_GRACE_HOURS,
    api_key_create,
    api_key_revoke,
    api_key_rotate,
)


@login_required
def key_list(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "keys.view")
    may_manage = policy.can(request.user, "keys.manage", organization)
    with tenant_context(organization):
        keys = list(
            ApiKey.objects.for_organization(organization)
            .select_related("project")
            .order_by("revoked_at", "-created_at")
        )
    return render(
        request,
        "keys/list.html",
        {
            "organization": organization,
            "keys": keys,
            "may_manage": may_manage,
            "form": KeyForm(projects=project_slugs(organization))
            if may_manage
            else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_new(request: HttpRequest, org: str) -> HttpResponse:
    """A new key needs a fresh password or passkey check; it is shown once."""
    organization = policy.organization_for(request.user, org, "keys.manage")
    return _key_new(request, organization)


@reauthentication_required
def _key_new(request: HttpRequest, organization: Organization) -> HttpResponse:
    projects = project_slugs(organization)
    form = KeyForm(request.POST or None, projects=projects)
    if request.method == "POST" and form.is_valid():
        project = owned_or_404(
            Project, organization, "project", slug=form.cleaned_data["project"]
        )
        api_key, full = api_key_create(
            project=project,
            name=form.cleaned_data["name"],
            environment=form.cleaned_data["environment"],
            created_by=request.user,
        )
        return _shown_once(request, organization, api_key, full, "created")
    return render(
        request,
        "keys/new.html",
        {"organization": organization, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def key_rotate(request: HttpRequest, org: str, public_id: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "keys.manage")
    return _key_rotate(request, organization, _key(organization, public_id))


@reauthentication_required
def _key_rotate(
    request: HttpRequest, organization: Organization, api_key: ApiKey
) -> HttpResponse:
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Give the old key 0 to {MAX_GRACE_HOURS} hours.")
        return redirect("keys", org=organization.slug)
    try:
        successor, full = api_key_rotate(
            api_key=api_key, grace_hours=form.cleaned_data["grace_hours"]
        )
    except ValueError as exc:
        messages.error(request, f"Not rotated: {exc}.")
        return redirect("keys", org=organization.slug)
    return _shown_once(request, organization, successor, full, "rotated")


@login_required
@require_POST
def key_revoke(request: HttpRequest, org: str, public_id: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "keys.manage")
    api_key = api_key_revoke(api_key=_key(organization, public_id))
    messages.success(request, f"Key {api_key.name} (…{api_key.hint}) is revoked.")
    return redirect("keys", org=organization.slug)


def _shown_once(
    request: HttpRequest,
    organization: Organization,
    api_key: ApiKey,
    full: str,
    how: str,
) -> HttpResponse:
    # Rendered in the answer to the form, never stored or redirected to: a
    # reload cannot show it again, and no cache may keep the page.
    response = render(
        request,
        "keys/shown_once.html",
        {"organization": organization, "api_key": api_key, "full": full, "how": how},
        status=201,
    )
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store"
    return response


def _key(organization: Organization, public_id: str) -> ApiKey:
    return owned_or_404(
        ApiKey, organization, "API key", related=("project",), public_id=public_id
    )
