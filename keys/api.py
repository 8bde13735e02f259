"""The management API for an organisation's gateway keys: what they may do,
and how much of it they have used. Never the key itself or its hash."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.api import only_field
from accounts.api_orgs import clean_name, fields, handles_invalid, require_fresh
from accounts.models import Organization, Project
from accounts.tenancy import owned_or_404, tenant_context
from gateway_project.schema import OBJECT_OR_NULL, SLUG_TEXT, body, name, one_of
from keys.limits import LimitError
from keys.models import ApiKey
from keys.services import (
    DEFAULT_GRACE_HOURS,
    MAX_GRACE_HOURS,
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    api_key_update_limits,
)
from keys.usage_now import budget_usage, usage_now


class KeyList(APIView):
    """GET the organisation's keys; POST ``{name, project, environment,
    limits}`` makes one, whose value is in this answer only."""

    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "keys.view")
        with tenant_context(organization):
            keys = list(
                ApiKey.objects.for_organization(organization)
                .select_related("project")
                .order_by("-created_at")
            )
            return Response({"results": [key_document(k, usage=False) for k in keys]})

    @extend_schema(
        request=body(
            {"name": name(), "project": SLUG_TEXT},
            {
                "environment": one_of(ApiKey.Environment.values),
                "limits": OBJECT_OR_NULL,
            },
        )
    )
    @handles_invalid
    def post(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "keys.manage")
        data = fields(request.data, ("name", "project"), ("environment", "limits"))
        name = clean_name(data["name"], "name")
        try:
            project = owned_or_404(
                Project, organization, "project", slug=str(data["project"])
            )
        except Http404:
            return Response({"project": ["No such project."]}, status=400)
        environment = data.get("environment", ApiKey.Environment.LIVE)
        if environment not in ApiKey.Environment.values:
            return Response(
                {"environment": [f"Choose one of {ApiKey.Environment.values}."]}, 400
            )
        require_fresh(request)
        try:
            api_key, full = api_key_create(
                project=project,
                name=name,
                environment=environment,
                created_by=request.user,
                limits=data.get("limits") or {},
            )
        except LimitError as exc:
            return Response({"limits": [str(exc)]}, status=400)
        with tenant_context(organization):
            return Response(
                {**key_document(api_key, usage=False), "key": full}, status=201
            )


class KeyRotate(APIView):
    """POST ``{grace_hours}`` makes the key's successor (its value in this
    answer only); the old key works that many hours more (default 24)."""

    @extend_schema(
        request=body(
            optional={
                "grace_hours": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": MAX_GRACE_HOURS,
                }
            }
        )
    )
    @handles_invalid
    def post(self, request: Request, org: str, public_id: str) -> Response:
        organization = policy.organization_for(request.user, org, "keys.manage")
        data = fields(request.data, (), ("grace_hours",))
        grace = data.get("grace_hours", DEFAULT_GRACE_HOURS)
        if not isinstance(grace, int | float) or isinstance(grace, bool):
            return Response({"grace_hours": ["A number of hours."]}, status=400)
        api_key = _key(organization, public_id)
        require_fresh(request)
        try:
            successor, full = api_key_rotate(api_key=api_key, grace_hours=grace)
        except ValueError as exc:
            field = "grace_hours" if "grace" in str(exc) else "detail"
            message: Any = [str(exc)] if field != "detail" else str(exc)
            return Response({field: message}, status=400)
        with tenant_context(organization):
            return Response(
                {**key_document(successor, usage=False), "key": full}, status=201
            )


class KeyDetail(APIView):
    """GET a key and its use; PATCH ``{limits}`` replaces its limits; DELETE
    revokes it."""

    def delete(self, request: Request, org: str, public_id: str) -> Response:
        organization = policy.organization_for(request.user, org, "keys.manage")
        api_key_revoke(api_key=_key(organization, public_id))
        return Response(status=204)

    def get(self, request: Request, org: str, public_id: str) -> Response:
        organization = policy.organization_for(request.user, org, "keys.view")
        with tenant_context(organization):
            api_key = (
                ApiKey.objects.for_organization(organization)
                .select_related("project")
                .filter(public_id=public_id)
                .first()
            )
            if api_key is None:
                raise Http404("No such API key.")
            return Response(key_document(api_key, usage=True))

    @extend_schema(request=body({"limits": OBJECT_OR_NULL}))
    def patch(self, request: Request, org: str, public_id: str) -> Response:
        """Replace the key's ``limits``; nothing else of a key changes here."""
        organization = policy.organization_for(request.user, org, "keys.limits")
        data = request.data if isinstance(request.data, dict) else {}
        errors = only_field(data, "limits")
        if errors:
            return Response(errors, status=400)
        with tenant_context(organization):
            api_key = (
                ApiKey.objects.for_organization(organization)
                .select_related("project")
                .filter(public_id=public_id, revoked_at__isnull=True)
                .first()
            )
            if api_key is None:
                raise Http404("No such API key.")
            try:
                api_key = api_key_update_limits(
                    api_key=api_key, limits=data["limits"] or {}
                )
            except LimitError as exc:
                return Response({"limits": [str(exc)]}, status=400)
            return Response(key_document(api_key, usage=True))


def _key(organization: Organization, public_id: str) -> ApiKey:
    return owned_or_404(
        ApiKey, organization, "API key", related=("project",), public_id=public_id
    )


def key_document(api_key: ApiKey, *, usage: bool) -> dict:
    document = {
        "id": api_key.public_id,
        "name": api_key.name,
        "project": api_key.project.slug,
        "environment": api_key.environment,
        "hint": api_key.hint,
        "limits": api_key.limits,
        "created_at": api_key.created_at,
        "last_used_at": api_key.last_used_at,
        "expires_at": api_key.expires_at,
        "revoked_at": api_key.revoked_at,
    }
    if usage:
        rates = usage_now(api_key.lineage_id, api_key.limits or {})
        document["usage"] = {
            "rate_limits": None
            if rates is None
            else {u.name: {"used": u.used, "limit": u.limit} for u in rates},
            "budgets": budget_usage(api_key),
        }
    return document
