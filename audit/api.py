"""The audit trail API: the filtered trail, one event, and exports."""

from __future__ import annotations

from django.http import StreamingHttpResponse

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
