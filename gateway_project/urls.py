from django.contrib import admin
from django.urls import include, path, re_path

from gateway_project import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("orgs/<slug:org>/audit/", include("audit.urls")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/orgs/<slug:org>/", include("audit.api_urls")),
    path("api/v1/orgs/<slug:org>/", include("keys.api_urls")),
    path("api/v1/orgs/<slug:org>/", include("guardrails.api_urls")),
    re_path(r"^api/", views.api_not_found),
    path("admin/", admin.site.urls),
]
