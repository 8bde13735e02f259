"""The audit trail API: the filtered trail, one event, and exports."""

from __future__ import annotations

from django.http import StreamingHttpResponse

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.tenancy import tenant_context
from audit import export, selectors
from audit.context import Actor
from audit.export import event_document
from audit.forms import EventFilterForm
from audit.models import AuditEvent

# The filters of the trail and its export, as query parameters.
FILTERS = [
    OpenApiParameter("from", str, description="A date, or a date and time."),
    OpenApiParameter("to", str, description="A date, or a date and time."),
    OpenApiParameter("actor", str, description="User id or part of an email."),
    OpenApiParameter("action", str, description="Exact, or a prefix ending in '.'"),
    OpenApiParameter("target_type", str),
    OpenApiParameter("target_id", str),
    OpenApiParameter("outcome", str, enum=AuditEvent.Outcome.values),
    OpenApiParameter("q", str, description="Words to search for."),
]


class EventPagination(CursorPagination):
    # seq is unique in an organisation's chain and only grows, so a cursor
    # stays exact while new events are appended.
    ordering = "-seq"
    page_size = selectors.PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = selectors.MAX_PAGE_SIZE

    def decode_cursor(self, request: Request) -> Cursor | None:
        """A cursor this API did not make is a client error, said as such."""
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                int(cursor.position)
        except (NotFound, ValueError):
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None
        return cursor


class EventList(APIView):
    @extend_schema(
        parameters=[
            *FILTERS,
            OpenApiParameter("cursor", str, description="A page's `next`."),
            OpenApiParameter("page_size", int),
        ]
    )
    def get(self, request: Request, org: str) -> Response:
        organization = policy.organization_for(request.user, org, "audit.view")
        filters = valid_filters(request).filters()
        paginator = EventPagination()
        with tenant_context(organization):
            events = selectors.event_queryset(organization, filters)
            page = paginator.paginate_queryset(events, request, view=self) or []
        return paginator.get_paginated_response([event_document(e) for e in page])


class EventDetail(APIView):
    def get(self, request: Request, org: str, event_id: int) -> Response:
        organization = policy.organization_for(request.user, org, "audit.view")
        item = selectors.event_detail(organization, event_id)
        changes = [change.as_dict() for change in item.changes]
        return Response({**event_document(item.event), "changes": changes})


class EventExport(APIView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(export.FORMATS), required=True),
            *FILTERS,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, "The events."),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY, "The events."),
        },
    )
    def get(self, request: Request, org: str) -> StreamingHttpResponse:
        organization = policy.organization_for(request.user, org, "audit.export")
        format = request.query_params.get("format", "")
        if format not in export.FORMATS:
            raise ValidationError({"format": ["Choose csv or json."]})
        form = valid_filters(request)

        started = export.export_start(
            organization=organization,
            format=format,
            filters=form.filters(),
            params=form.params(),
            actor=Actor.user(request.user),
        )
        return export.export_response(started)


def valid_filters(request: Request) -> EventFilterForm:
    form = EventFilterForm(request.query_params)
    if not form.is_valid():
        raise ValidationError(form.error_dict())
    return form
