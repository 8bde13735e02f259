"""The management API for an organisation's projects and the budgets their
keys share."""

from __future__ import annotations

from django.db import IntegrityError
from django.http import Http404

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.models import Organization, Project
from accounts.services import SLUG, project_create, project_update
from accounts.tenancy import tenant_context
from gateway_project.schema import OBJECT_OR_NULL, SLUG_TEXT, body, error, name
from keys.limits import LimitError
from keys.usage_now import project_budget_usage


class ProjectList(APIView):
    """GET the organisation's projects; POST ``{slug, name}`` makes one
    (owners and admins)."""

    @extend_schema(
        request=body({"slug": SLUG_TEXT}, {"name": name()}),
        responses={201: OpenApiTypes.OBJECT, 409: error(409)},
    )
    def post(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "projects.manage")
        data = request.data if isinstance(request.data, dict) else {}
        slug = data.get("slug")
        if not isinstance(slug, str) or not SLUG.fullmatch(slug):
            return Response(
                {"slug": ["Lowercase letters, digits and hyphens, up to 60."]}, 400
            )
        name = data.get("name") or slug
        if not isinstance(name, str) or len(name) > 200 or not name.isprintable():
            return Response({"name": ["At most 200 printable characters."]}, 400)
        try:
            project = project_create(organization=organization, slug=slug, name=name)
        except IntegrityError:
            return Response({"slug": ["This organisation has that project."]}, 409)
        with tenant_context(organization):
            return Response(project_document(project, usage=False), status=201)

    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "projects.view")
        with tenant_context(organization):
            projects = Project.objects.for_organization(organization).order_by("slug")
            return Response(
                {"results": [project_document(p, usage=False) for p in projects]}
            )


class ProjectDetail(APIView):
    def get(self, request: Request, org: str, slug: str) -> Response:
        organization = policy.organization_for(request.user, org, "projects.view")
        with tenant_context(organization):
            project = _project(organization, slug)
            return Response(project_document(project, usage=True))

    @extend_schema(request=body({"limits": OBJECT_OR_NULL}))
    def patch(self, request: Request, org: str, slug: str) -> Response:
        """Change the project's ``limits`` (its budgets); nothing else yet."""
        organization = policy.organization_for(request.user, org, "projects.budgets")
        data = request.data if isinstance(request.data, dict) else {}
        errors = only_field(data, "limits")
        if errors:
            return Response(errors, status=400)
        with tenant_context(organization):
            project = _project(organization, slug)
            try:
                project = project_update(project=project, limits=data["limits"] or {})
            except LimitError as exc:
                return Response({"limits": [str(exc)]}, status=400)
            return Response(project_document(project, usage=True))


def only_field(data: dict, name: str) -> dict:
    """DRF-shaped errors unless ``data`` holds ``name`` and nothing else."""
    unknown = sorted(set(data) - {name})
    if unknown:
        return {unknown[0]: ["This field cannot be changed here."]}
    if name not in data:
        return {name: ["This field is required."]}
    return {}


def _project(organization: Organization, slug: str) -> Project:
    project = Project.objects.for_organization(organization).filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return project


def project_document(project: Project, *, usage: bool) -> dict:
    document = {
        "slug": project.slug,
        "name": project.name,
        "limits": project.limits,
        "created_at": project.created_at,
    }
    if usage:
        document["usage"] = {"budgets": project_budget_usage(project)}
    return document
