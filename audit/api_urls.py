"""The management API for one organisation's audit trail."""

from django.urls import path

from audit import api

urlpatterns = [
    path("audit-events/", api.EventList.as_view(), name="api-audit-events"),
    path(
        "audit-events/<int:event_id>/",
        api.EventDetail.as_view(),
        name="api-audit-event",
    ),
    path("audit-events/export", api.EventExport.as_view(), name="api-audit-export"),
]
