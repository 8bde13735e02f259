"""The management API for one organisation's gateway keys."""

from django.urls import path

from keys import api

urlpatterns = [
    path("keys/", api.KeyList.as_view(), name="api-keys"),
    path("keys/<slug:public_id>/", api.KeyDetail.as_view(), name="api-key"),
]
