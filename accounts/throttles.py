"""Rate limits on the management API, per client address and per account.

Both count in the shared cache through django-ratelimit, like the sign-in
forms' limits, so every worker and instance sees the same numbers. The
address limit runs as middleware, before authentication, so wrong tokens are
counted too; the account limit runs once DRF knows who is calling.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from django_ratelimit.core import is_ratelimited
from rest_framework.throttling import BaseThrottle

from gateway_project.clientaddr import request_address

API_PREFIX = "/api/"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window_seconds(rate: str) -> int:
    """The window of a django-ratelimit rate: ``"600/m"`` is 60, ``"5/10m"`` 600."""
    period = rate.partition("/")[2]
    digits = period.rstrip("smhd")
    return int(digits or 1) * UNITS[period[len(digits) :][:1] or "s"]


def address_over_limit(request: HttpRequest) -> bool:
    return is_ratelimited(
        request,
        group="api:address",
        key=lambda group, request: request_address(request) or "unknown",
        rate=settings.API_REQUESTS_PER_ADDRESS,
        increment=True,
    )


class AccountThrottle(BaseThrottle):
    """``API_REQUESTS_PER_ACCOUNT`` for each signed-in person, whatever
    address or token they call from."""

    def allow_request(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return True
        return not is_ratelimited(
            request._request,
            group="api:account",
            key=lambda group, request: str(user.pk),
            rate=settings.API_REQUESTS_PER_ACCOUNT,
            increment=True,
        )

    def wait(self) -> float:
        return float(window_seconds(settings.API_REQUESTS_PER_ACCOUNT))
