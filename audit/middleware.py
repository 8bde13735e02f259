"""Bind the audit context (who, from where, which request) for each Django request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import bound, from_request


class AuditContextMiddleware:
    """Bind ``audit.context`` for the request, under its id (RequestIdMiddleware's).

    Goes after AuthenticationMiddleware, which gives the acting user. The
    client address is the connection's (REMOTE_ADDR): a forwarded-for header
    is trusted only once the trusted proxies are configured.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = from_request(request)
        request.request_id = context.request_id  # type: ignore[attr-defined]
        with bound(**vars(context)):
            return self.get_response(request)
