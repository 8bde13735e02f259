"""The Django admin is the platform's own view across every tenant."""

from __future__ import annotations

from django.urls import reverse

from accounts.tenancy import platform_context


class PlatformAdminMiddleware:
    """Run admin-site requests in a platform transaction.

    The admin lists every organisation's rows, so it is one of the few paths
    that crosses tenants; every change made through it is audited.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = reverse("admin:index")

    def __call__(self, request):
        if not request.path.startswith(self.prefix):
            return self.get_response(request)
        with platform_context():
            return self.get_response(request)
