"""Request-wide rules of accounts: the admin's platform view, session limits."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from django_ratelimit.core import is_ratelimited

from accounts.tenancy import platform_context
from accounts.throttles import API_PREFIX, address_over_limit, window_seconds
from gateway_project.clientaddr import request_address

security_logger = logging.getLogger("warden.security.auth")


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


# Forms that check a secret or send mail: sign-in, sign-up, codes, password
# resets, passkeys, second factors, re-authentication, the admin's sign-in.
THROTTLED_PREFIXES = ("/accounts/", "/admin/login/")
# Invitation links carry a secret token: every request to them counts.
INVITATION_PREFIX = "/invitations/"
# Fields that name the account a form is about.
ACCOUNT_FIELDS = ("login", "email", "username")


class AuthThrottleMiddleware:
    """Refuse too many form posts to the sign-in pages, per client address and
    per account named, counted in the shared cache (django-ratelimit).

    On top of allauth's own limits and the sign-in failure count: this one
    covers every form under /accounts/ and the admin's sign-in, whatever
    it does, so a new form is never left unguarded.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (
            request.method == "POST" and path.startswith(THROTTLED_PREFIXES)
        ) or path.startswith(INVITATION_PREFIX):
            if self._limited(request):
                security_logger.warning("sign-in form refused: too many attempts")
                response = render(request, "account/throttled.html", status=429)
                response["Retry-After"] = "60"
                return response
        return self.get_response(request)

    def _limited(self, request) -> bool:
        limited = is_ratelimited(
            request,
            group="auth-forms:address",
            key=lambda group, request: request_address(request) or "unknown",
            rate=settings.AUTH_FORM_POSTS_PER_ADDRESS,
            increment=True,
        )
        named = next(
            (request.POST.get(f) for f in ACCOUNT_FIELDS if request.POST.get(f)), ""
        )
        if named:
            account = get_user_model().normalize_username(named.strip()).casefold()
            limited |= is_ratelimited(
                request,
                group="auth-forms:account",
                key=lambda group, request: account[:254],
                rate=settings.AUTH_FORM_POSTS_PER_ACCOUNT,
                increment=True,
            )
        return limited


class ApiThrottleMiddleware:
    """Refuse more than ``API_REQUESTS_PER_ADDRESS`` management API requests
    from one client address, before any token or session is checked.

    The per-account limit is DRF's (accounts.throttles.AccountThrottle).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and address_over_limit(request):
            security_logger.warning("management API refused: too many requests")
            seconds = window_seconds(settings.API_REQUESTS_PER_ADDRESS)
            response = JsonResponse(
                {
                    "detail": "Request was throttled. Expected available in "
                    f"{seconds} seconds."
                },
                status=429,
            )
            response["Retry-After"] = str(seconds)
            return response
        return self.get_response(request)
