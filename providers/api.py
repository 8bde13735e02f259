"""The management API for an organisation's provider keys: listed by hint,
set (added or replaced), tested and removed. Never the key itself."""

from __future__ import annotations

from django.http import Http404

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.api_orgs import fields, handles_invalid, require_fresh
from accounts.models import Organization, Project
from accounts.tenancy import owned_or_404, tenant_context
from gateway_project.schema import TEXT, TEXT_OR_NULL, body, one_of
from providers.catalogue import catalogue
from providers.models import ProviderCredential
from providers.netguard import BlockedDestination
from providers.services import (
    CredentialError,
    provider_credential_check,
    provider_credential_delete,
    provider_credential_set,
)

# The providers a key can be stored for (the demo one needs none).
PROVIDERS = sorted(
    name for name, spec in catalogue().providers.items() if spec.adapter != "demo"
)


class ProviderKeyList(APIView):
    """GET the stored provider keys (by hint); POST ``{provider, key,
    base_url, project}`` stores one, replacing any for the same provider and
    project."""

    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "providers.view")
        with tenant_context(organization):
            rows = (
                ProviderCredential.objects.for_organization(organization)
                .select_related("project")
                .order_by("provider")
            )
            return Response({"results": [credential_document(c) for c in rows]})

    @extend_schema(
        request=body(
            {"provider": one_of(PROVIDERS), "key": TEXT},
            {"base_url": TEXT_OR_NULL, "project": TEXT_OR_NULL},
        )
    )
    @handles_invalid
    def post(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "providers.manage")
        data = fields(request.data, ("provider", "key"), ("base_url", "project"))
        wrong = [
            name
            for name in ("provider", "key", "base_url", "project")
            if name in data and not isinstance(data[name], str | None)
        ]
        if wrong:
            return Response({name: ["Give it as text."] for name in wrong}, 400)
        project = None
        if data.get("project"):
            try:
                project = owned_or_404(
                    Project, organization, "project", slug=data["project"]
                )
            except Http404:
                return Response({"project": ["No such project."]}, status=400)
        require_fresh(request)
        try:
            credential = provider_credential_set(
                organization=organization,
                provider=str(data["provider"]),
                secret=str(data["key"]),
                base_url=str(data.get("base_url") or ""),
                project=project,
            )
        except CredentialError as exc:
            return Response({"key": [str(exc)]}, status=400)
        except BlockedDestination as exc:
            return Response({"base_url": [str(exc)]}, status=400)
        with tenant_context(organization):
            return Response(credential_document(credential), status=201)


class ProviderKeyDetail(APIView):
    def delete(self, request: Request, org: str, credential_id: str) -> Response:
        organization = policy.organization_for(request.user, org, "providers.manage")
        credential = _credential(organization, credential_id)
        require_fresh(request)
        provider_credential_delete(credential=credential)
        return Response(status=204)


class ProviderKeyTest(APIView):
    """POST asks the provider to list its models with the stored key."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, org: str, credential_id: str) -> Response:
        organization = policy.organization_for(request.user, org, "providers.manage")
        result = provider_credential_check(_credential(organization, credential_id))
        return Response({"ok": result.ok, "message": result.message})


def _credential(organization: Organization, credential_id: str) -> ProviderCredential:
    return owned_or_404(
        ProviderCredential,
        organization,
        "provider key",
        related=("project",),
        pk=credential_id,
    )


def credential_document(credential: ProviderCredential) -> dict:
    return {
        "id": str(credential.pk),
        "provider": credential.provider,
        "project": credential.project.slug if credential.project else None,
        "base_url": credential.base_url,
        "hint": credential.masked,
        "updated_at": credential.updated_at,
    }
