"""The management API for one organisation's gateway keys and projects."""

from django.urls import path

from accounts import api as accounts_api
from keys import api
from providers import api as providers_api
from proxy import api as usage_api

urlpatterns = [
    path("keys/", api.KeyList.as_view(), name="api-keys"),
    path("keys/<slug:public_id>/", api.KeyDetail.as_view(), name="api-key"),
    path(
        "keys/<slug:public_id>/rotate",
        api.KeyRotate.as_view(),
        name="api-key-rotate",
    ),
    path("usage", usage_api.UsageReport.as_view(), name="api-usage"),
    path(
        "provider-keys/",
        providers_api.ProviderKeyList.as_view(),
        name="api-provider-keys",
    ),
    path(
        "provider-keys/<uuid:credential_id>/",
        providers_api.ProviderKeyDetail.as_view(),
        name="api-provider-key",
    ),
    path(
        "provider-keys/<uuid:credential_id>/test",
        providers_api.ProviderKeyTest.as_view(),
        name="api-provider-key-test",
    ),
    path("projects/", accounts_api.ProjectList.as_view(), name="api-projects"),
    path(
        "projects/<slug:slug>/",
        accounts_api.ProjectDetail.as_view(),
        name="api-project",
    ),
]
