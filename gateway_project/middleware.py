"""Give each request to the site its id, for its log lines and its response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from gateway_project import logcontext


class RequestIdMiddleware:
    """Take a sane X-Request-ID from the client or make one; echo it back.

    First in the chain, so every line logged for the request carries the id,
    and every response has it, a redirect or a refusal included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = logcontext.request_id(given)  # type: ignore[attr-defined]
        logcontext.bind(request.request_id)  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response
