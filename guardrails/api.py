"""The management API for guardrail policies, custom rules and the test console."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy as access
from accounts.models import Organization, Project
from accounts.tenancy import tenant_context
from gateway_project.schema import TEXT, TEXT_OR_NULL, body, name, one_of
from guardrails import services
from guardrails.models import CustomRule, GuardrailEvent, GuardrailPolicy
from guardrails.policy import ACTIONS, DIRECTIONS, PolicyError, effective_policy
from guardrails.rules import RuleError

MAX_TEST_CHARS = 100_000
MAX_EVENTS = 500
RULE_KINDS = CustomRule.Kind.values
RULE_REQUIRED = {"name": name(60), "kind": one_of(RULE_KINDS), "pattern": TEXT}
RULE_OPTIONAL = {
    "action": one_of(ACTIONS),
    "applies_to": one_of(DIRECTIONS),
    "case_sensitive": {"type": "boolean"},
    "enabled": {"type": "boolean"},
    "project": TEXT_OR_NULL,
}


class PolicyDetail(APIView):
    """GET the stored and effective policy; PUT replaces the stored one."""

    def get(self, request: Request, org: str, slug: str | None = None) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.view")
        with tenant_context(organization):
            project = _project(organization, slug)
            return Response(policy_document(organization, project))

    @extend_schema(request=body(optional={"settings": {"type": "object"}}))
    def put(self, request: Request, org: str, slug: str | None = None) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        data = request.data if isinstance(request.data, dict) else {}
        with tenant_context(organization):
            project = _project(organization, slug)
            try:
                services.guardrail_policy_set(
                    organization=organization,
                    project=project,
                    settings=data.get("settings", {}),
                )
            except PolicyError as exc:
                return Response({"settings": [str(exc)]}, status=400)
            return Response(policy_document(organization, project))


class RuleList(APIView):
    """Owners and admins only: a rule's keywords (code names, say) are not
    for every member, nor is a console that would tell them by trial."""

    def get(self, request: Request, org: str) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        with tenant_context(organization):
            rules = CustomRule.objects.for_organization(organization).order_by("name")
            return Response({"results": [rule_document(r) for r in rules]})

    @extend_schema(request=body(RULE_REQUIRED, RULE_OPTIONAL))
    def post(self, request: Request, org: str) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        data = request.data if isinstance(request.data, dict) else {}
        missing = [f for f in ("name", "kind", "pattern") if f not in data]
        if missing:
            return Response({f: ["This field is required."] for f in missing}, 400)
        with tenant_context(organization):
            try:
                project = _project(organization, data.get("project"))
                rule = services.custom_rule_create(
                    organization=organization,
                    project=project,
                    **{f: data[f] for f in services.RULE_FIELDS if f in data},
                )
            except (RuleError, PolicyError) as exc:
                return Response(services.rule_errors(exc), status=400)
            return Response(rule_document(rule), status=201)


class RuleDetail(APIView):
    def get(self, request: Request, org: str, pk: int) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        with tenant_context(organization):
            return Response(rule_document(_rule(organization, pk)))

    @extend_schema(
        request=body(
            optional={
                **{k: v for k, v in RULE_REQUIRED.items() if k != "name"},
                **{k: v for k, v in RULE_OPTIONAL.items() if k != "project"},
                "enabled": {"type": "boolean"},
            }
        )
    )
    def patch(self, request: Request, org: str, pk: int) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        data = request.data if isinstance(request.data, dict) else {}
        with tenant_context(organization):
            rule = _rule(organization, pk)
            try:
                rule = services.custom_rule_update(rule=rule, **data)
            except (RuleError, PolicyError) as exc:
                return Response(services.rule_errors(exc), status=400)
            return Response(rule_document(rule))

    def delete(self, request: Request, org: str, pk: int) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        with tenant_context(organization):
            services.custom_rule_delete(rule=_rule(organization, pk))
        return Response(status=204)


class TestConsole(APIView):
    """POST a text; see what the policy (or one draft rule) would do to it.

    Nothing is stored or logged: the answer names findings by type and span.
    """

    @extend_schema(
        request=body(
            {"text": {**TEXT, "minLength": 1, "maxLength": MAX_TEST_CHARS}},
            {
                "direction": one_of(("input", "output")),
                "project": TEXT_OR_NULL,
                "rule": {"type": "object"},
            },
        ),
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org: str) -> Response:
        organization = access.organization_for(request.user, org, "guardrails.manage")
        data = request.data if isinstance(request.data, dict) else {}
        text, direction = data.get("text"), data.get("direction", "input")
        errors = _console_errors(text, direction)
        if errors or not isinstance(text, str):
            return Response(errors, status=400)
        with tenant_context(organization):
            project = _project(organization, data.get("project"))
        draft = data.get("rule")
        try:
            return Response(
                services.console_check(organization, project, text, direction, draft)
            )
        except (RuleError, PolicyError) as exc:
            return Response({"rule": [str(exc)]}, status=400)


class EventList(APIView):
    """GET guardrail events, newest first, for the audit review (owners, admins).

    ``?request_id=``, ``?action=`` and ``?detector=`` narrow them; a page
    holds MAX_EVENTS, and ``next`` (when there are more) is the ``?before=``
    that gives the following page.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("request_id", str),
            OpenApiParameter("action", str),
            OpenApiParameter("detector", str),
            OpenApiParameter("before", int, description="The `next` of a page."),
        ]
    )
    def get(self, request: Request, org: str) -> Response:
        organization = access.organization_for(request.user, org, "audit.view")
        with tenant_context(organization):
            events = GuardrailEvent.objects.for_organization(organization)
            for name in ("request_id", "action", "detector"):
                if request.query_params.get(name):
                    events = events.filter(**{name: request.query_params[name]})
            before = request.query_params.get("before", "")
            if before:
                try:
                    events = events.filter(pk__lt=int(before))
                except ValueError:
                    return Response({"before": ["Give the `next` of a page."]}, 400)
            # Ids grow with time (the database stamps created_at as it inserts).
            page = list(events.order_by("-id")[: MAX_EVENTS + 1])
            more = len(page) > MAX_EVENTS
            page = page[:MAX_EVENTS]
            return Response(
                {
                    "results": [event_document(e) for e in page],
                    "next": str(page[-1].pk) if more else None,
                }
            )


def event_document(event: GuardrailEvent) -> dict:
    return {
        "created_at": event.created_at,
        "request_id": event.request_id,
        "api_key": event.api_key_id,
        "detector": event.detector,
        "type": event.type,
        "rule": event.rule,
        "action": event.action,
        "direction": event.direction,
        "location": event.location,
        "value_hash": event.value_hash,
        "confidence": event.confidence,
    }


def policy_document(organization: Organization, project: Project | None) -> dict:
    rows = GuardrailPolicy.objects.for_organization(organization)
    stored = {row.project_id: row.settings for row in rows}
    own = stored.get(project.pk if project else None, {})
    layers = [stored.get(None)] + ([own] if project else [])
    return {
        "project": project.slug if project else None,
        "settings": own,
        "effective": effective_policy(*layers),
    }


def rule_document(rule: CustomRule) -> dict:
    return {
        "id": rule.pk,
        **services.rule_fields(rule),
        "project": rule.project.slug if rule.project_id and rule.project else None,
        "created_at": rule.created_at,
    }


def _project(organization: Organization, slug: Any) -> Project | None:
    if slug is None:
        return None
    found = Project.objects.for_organization(organization).filter(slug=slug).first()
    if found is None:
        raise Http404("No such project.")
    return found


def _rule(organization: Organization, pk: int) -> CustomRule:
    rule = CustomRule.objects.for_organization(organization).filter(pk=pk).first()
    if rule is None:
        raise Http404("No such rule.")
    return rule


def _console_errors(text: Any, direction: Any) -> dict:
    errors = {}
    if not isinstance(text, str) or not text:
        errors["text"] = ["Give the text to test."]
    elif len(text) > MAX_TEST_CHARS:
        errors["text"] = [f"At most {MAX_TEST_CHARS} characters."]
    if direction not in ("input", "output"):
        errors["direction"] = ["Must be input or output."]
    return errors
