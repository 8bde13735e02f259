"""The proxy's Prometheus metrics, updated once per request after its response.

Every label takes its value from a bounded set: endpoints and limit kinds
are the proxy's own, models are the catalogue's ids (any other name counts
as ``other``), providers are the catalogue's, and no key, organisation or
request id is ever a label. Under gunicorn each worker writes its values to
memory-mapped files that ``/metrics`` adds up (see gateway_project/metrics.py):
updating one is a memory write, no lock across workers and no I/O.
"""

from __future__ import annotations

import collections
import functools
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from providers.catalogue import catalogue

if TYPE_CHECKING:
    from proxy.app import Call

NONE = "none"
OTHER = "other"
# From a millisecond to the upstream read timeout's order of magnitude.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600
)  # fmt: skip
# The kinds of UpstreamError the gateway raises itself; a provider's own
# refusal is "rejected" (4xx) or "error".
UPSTREAM_KINDS = {
    "upstream_timeout": "timeout",
    "upstream_unreachable": "unreachable",
    "upstream_blocked": "blocked",
    "upstream_stream_broken": "stream_broken",
    "upstream_invalid_response": "invalid_response",
    "upstream_authentication_failed": "authentication",
    "provider_rate_limited": "rate_limited",
}

REQUESTS = Counter(
    "warden_requests",
    "Requests to /v1 by endpoint, model, provider and response status.",
    ["endpoint", "model", "provider", "status"],
)
LATENCY = Histogram(
    "warden_request_duration_seconds",
    "Time from a /v1 request's arrival to its response's (or stream's) end.",
    ["endpoint", "model", "provider", "status"],
    buckets=LATENCY_BUCKETS,
)
FIRST_TOKEN = Histogram(
    "warden_stream_first_token_seconds",
    "Time from a streamed request's arrival to the provider's first item.",
    ["model", "provider"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "warden_upstream_errors",
    "Provider calls that failed, by provider and kind.",
    ["provider", "kind"],
)
GUARDRAIL_FINDINGS = Counter(
    "warden_guardrail_findings",
    "Guardrail findings by detector, finding type, action and direction.",
    ["detector", "type", "action", "direction"],
)
LIMIT_REFUSALS = Counter(
    "warden_limit_refusals",
    "Requests refused by a limit: rate (requests, tokens, concurrency), "
    "budget, model, endpoint, ip, key_failures, body_size, body_timeout, "
    "json_depth.",
    ["kind"],
)
ACTIVE_STREAMS = Gauge(
    "warden_active_streams",
    "Streams being relayed now.",
    multiprocess_mode="livesum",
)


def model_label(model_id: str) -> str:
    if not model_id:
        return NONE
    return model_id if model_id in catalogue().models else OTHER


def upstream_kind(status: int, code: str | None) -> str:
    if code in UPSTREAM_KINDS:
        return UPSTREAM_KINDS[code]
    return "rejected" if 400 <= status < 500 else "error"


def observe(call: Call) -> None:
    """Count a finished request: its status, time, failures and findings."""
    provider = call.target.provider if call.target is not None else NONE
    model = model_label(call.spec.id if call.spec is not None else call.model)
    counted, latency = _request_series(call.endpoint, model, provider, call.status)
    counted.inc()
    latency.observe(call.elapsed())
    if call.stream and call.ttft_ms is not None:
        FIRST_TOKEN.labels(model, provider).observe(call.ttft_ms / 1000)
    if call.upstream_error:
        UPSTREAM_ERRORS.labels(provider, call.upstream_error).inc()
    if call.limit:
        LIMIT_REFUSALS.labels(call.limit).inc()
    if call.guard is not None and call.guard.hits:
        # A custom rule's type is its name, chosen by each organisation.
        findings = collections.Counter(
            (hit.detector, OTHER if hit.detector == "custom" else hit.type[:60])
            + (hit.action, hit.direction)
            for hit in call.guard.hits
        )
        for finding, count in findings.items():
            GUARDRAIL_FINDINGS.labels(*finding).inc(count)


def refused_early(status: int) -> None:
    """Count a request refused before it reached an endpoint."""
    _request_series(NONE, NONE, NONE, status)[0].inc()


# Looking a series up by its labels costs more than updating it; the labels'
# combinations are few, so each one's pair of series is kept.
@functools.lru_cache(maxsize=4096)
def _request_series(
    endpoint: str, model: str, provider: str, status: int
) -> tuple[Counter, Histogram]:
    labels = (endpoint, model, provider, str(status))
    return REQUESTS.labels(*labels), LATENCY.labels(*labels)
