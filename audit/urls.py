"""Audit review pages of one organisation."""

from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="events"),
    path("<int:event_id>/", views.event_detail, name="event"),
    path("export.csv", views.event_export, {"format": "csv"}, name="export_csv"),
    path("export.json", views.event_export, {"format": "json"}, name="export_json"),
]
