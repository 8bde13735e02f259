from __future__ import annotations

import sys

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from redis.exceptions import RedisError

from accounts.policy import organizations_for
from gateway_project import metrics as metrics_export
from gateway_project.health import failing


def home(request: HttpRequest) -> HttpResponse:
    reviewable = organizations_for(request.user, "audit.view")
    return render(request, "home.html", {"reviewable": reviewable})


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, Redis and the master key are usable."""
    failed = failing()
    if failed:
        return JsonResponse({"status": "not ready", "failing": failed}, status=503)
    return JsonResponse({"status": "ready"})


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for the bearer of ``METRICS_TOKEN`` only."""
    accepted = metrics_export.token_accepted(request.headers.get("Authorization", ""))
    if accepted is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    if not accepted:
        refusal = JsonResponse({"detail": "A bearer token is needed."}, status=401)
        refusal["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refusal
    body, content_type = metrics_export.exposition()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown management API paths answer in the API's shape, not a page.

    Exempt from CSRF: it changes nothing, and a token-authenticated DELETE
    to a mistyped path would otherwise get the CSRF failure page.
    """
    return JsonResponse({"detail": "Not found."}, status=404)


# What a request meets when the database or Redis cannot be reached.
UNAVAILABLE = (OperationalError, RedisError)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's answer to an uncaught exception: 503 with ``Retry-After`` when
    the database or Redis is out of reach (the sign-in throttles and the API's
    rate limits count in Redis), 500 otherwise; JSON under /api/."""
    unavailable = isinstance(sys.exc_info()[1], UNAVAILABLE)
    if request.path.startswith("/api/"):
        detail = (
            "The service is temporarily unavailable; try again shortly."
            if unavailable
            else "Server error."
        )
        response: HttpResponse = JsonResponse(
            {"detail": detail}, status=503 if unavailable else 500
        )
    elif unavailable:
        response = HttpResponse(
            "Warden is temporarily unavailable; try again shortly.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    else:
        return defaults.server_error(request)
    if unavailable:
        response["Retry-After"] = "5"
    return response
