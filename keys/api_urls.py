"""The management API for one organisation's gateway keys and projects."""

from django.urls import path

from accounts import api as accounts_api
from keys import api

urlpatterns = [
    path("keys/", api.KeyList.as_view(), name="api-keys"),
    path("keys/<slug:public_id>/", api.KeyDetail.as_view(), name="api-key"),
    path("projects/", accounts_api.ProjectList.as_view(), name="api-projects"),
    path(
        "projects/<slug:slug>/",
        accounts_api.ProjectDetail.as_view(),
        name="api-project",
    ),
]
