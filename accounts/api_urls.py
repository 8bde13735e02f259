"""The management API: the person's own data."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("me", views.Me.as_view(), name="api-me"),
    path("me/export", views.MyDataExport.as_view(), name="api-me-export"),
]
