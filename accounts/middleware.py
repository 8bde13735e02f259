"""Request-wide rules of accounts: the admin's platform view, session limits."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
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


SIGNED_IN_AT = "warden_signed_in_at"


class SessionLimitsMiddleware:
    """End a session SESSION_MAX_SECONDS after sign-in, however active.

    Inactivity is Django's own SESSION_COOKIE_AGE, renewed on every request;
    this is the absolute limit on top of it. The sign-in time is stamped by
    ``stamp_sign_in`` (on Django's user_logged_in signal).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.setdefault(SIGNED_IN_AT, int(time.time()))
            if time.time() - started > settings.SESSION_MAX_SECONDS:
                logout(request)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())
