"""The provider key pages of an organisation: stored keys by hint, adding or
replacing one after a fresh check, testing one, removing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from allauth.account.decorators import reauthentication_required

from accounts import policy
from accounts.models import Organization, Project
from accounts.tenancy import tenant_context
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
    form = ProviderKeyForm(request.POST or None, projects=_projects(organization))
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


def _projects(organization: Organization) -> list[str]:
    with tenant_context(organization):
        return list(
            Project.objects.for_organization(organization)
            .order_by("slug")
            .values_list("slug", flat=True)
        )


def _project(organization: Organization, slug: str) -> Project | None:
    if not slug:
        return None
    with tenant_context(organization):
        project = (
            Project.objects.for_organization(organization).filter(slug=slug).first()
        )
    if project is None:
        raise Http404("No such project.")
    return project


def _credential(organization: Organization, credential_id: str) -> ProviderCredential:
    with tenant_context(organization):
        credential = (
            ProviderCredential.objects.for_organization(organization)
            .filter(pk=credential_id)
            .first()
        )
    if credential is None:
        raise Http404("No such provider key.")
    return credential
