"""The provider key pages of an organisation: stored keys by hint, adding or
replacing one after a fresh check, testing one, removing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from allauth.account.decorators import reauthentication_required

from accounts import policy
from accounts.models import Organization, Project
from accounts.tenancy import owned_or_404, project_slugs, tenant_context
from providers.forms import ProviderKeyForm
from providers.models import ProviderCredential
from providers.netguard import BlockedDestination
from providers.services import (
    CredentialError,
    provider_credential_check,
    provider_credential_delete,
    provider_credential_set,
)


@login_required
def provider_list(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "providers.view")
    with tenant_context(organization):
        credentials = list(
            ProviderCredential.objects.for_organization(organization)
            .select_related("project")
            .order_by("provider", "project__slug")
        )
    return render(
        request,
        "providers/list.html",
        {
            "organization": organization,
            "credentials": credentials,
            "may_manage": policy.can(request.user, "providers.manage", organization),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def provider_key_set(request: HttpRequest, org: str) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "providers.manage")
    return _provider_key_set(request, organization)


@reauthentication_required
def _provider_key_set(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = ProviderKeyForm(request.POST or None, projects=project_slugs(organization))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            credential = provider_credential_set(
                organization=organization,
                provider=data["provider"],
                secret=data["secret"],
                base_url=data["base_url"],
                project=_project(organization, data["project"]),
            )
        except CredentialError as exc:
            form.add_error(None, str(exc))
        except BlockedDestination as exc:
            form.add_error("base_url", str(exc))
        else:
            messages.success(
                request, f"{credential.provider} key {credential.masked} stored."
            )
            return redirect("providers", org=organization.slug)
    return render(
        request,
        "providers/set.html",
        {"organization": organization, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def provider_key_test(
    request: HttpRequest, org: str, credential_id: str
) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "providers.manage")
    result = provider_credential_check(_credential(organization, credential_id))
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("providers", org=organization.slug)


@login_required
@require_POST
def provider_key_delete(
    request: HttpRequest, org: str, credential_id: str
) -> HttpResponse:
    organization = policy.organization_for(request.user, org, "providers.manage")
    return _provider_key_delete(request, organization, credential_id)


@reauthentication_required
def _provider_key_delete(
    request: HttpRequest, organization: Organization, credential_id: str
) -> HttpResponse:
    provider_credential_delete(credential=_credential(organization, credential_id))
    messages.success(request, "Provider key removed.")
    return redirect("providers", org=organization.slug)


def _project(organization: Organization, slug: str) -> Project | None:
    return owned_or_404(Project, organization, "project", slug=slug) if slug else None


def _credential(organization: Organization, credential_id: str) -> ProviderCredential:
    return owned_or_404(
        ProviderCredential, organization, "provider key", pk=credential_id
    )
