from django.contrib import admin
from django.urls import include, path, re_path

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import pages as accounts_pages
from gateway_project import views

# Staff reach the admin only with a second factor: its sign-in asks for a
# code from their TOTP device or a backup code (see accounts/staff.py).
admin.site.__class__ = OTPAdminSite

handler500 = "gateway_project.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("readyz", views.ready, name="ready"),
    path("metrics", views.metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("orgs/", include("accounts.page_urls")),
    path(
        "invitations/<slug:org>/<str:token>/",
        accounts_pages.invitation,
        name="invitation",
    ),
    path("orgs/<slug:org>/audit/", include("audit.urls")),
    path("orgs/<slug:org>/keys/", include("keys.page_urls")),
    path("orgs/<slug:org>/providers/", include("providers.page_urls")),
    path("orgs/<slug:org>/guardrails/", include("guardrails.page_urls")),
    path("orgs/<slug:org>/usage/", include("proxy.page_urls")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/orgs/<slug:org>/", include("audit.api_urls")),
    path("api/v1/orgs/<slug:org>/", include("keys.api_urls")),
    path("api/v1/orgs/<slug:org>/", include("guardrails.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # The split view serves its start-up script as a file: no inline
        # script; its page has one inline <style>, allowed on this page only.
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    re_path(r"^api/", views.api_not_found),
    path("admin/", admin.site.urls),
]
