"""Enforce the limits a gateway key carries (see ``keys/limits.py``).

Access rules (endpoints, client networks, models) cost no I/O. Rate limits
(``rpm``, ``tpm``, ``max_concurrency``) cost one store round trip to admit and
one to settle; a key without them costs none.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

import orjson
from redis.exceptions import RedisError

from gateway_project.store import RedisStore, store
from keys.auth import KeyContext
from proxy import counters
from proxy.counters import LocalCounters, Quota, Verdict
from proxy.errors import ProxyError

logger = logging.getLogger(__name__)

_local = LocalCounters()
_RATE_LIMITS = ("rpm", "tpm", "max_concurrency")


@dataclass(frozen=True)
class Admission:
    """A request let through the rate limits, to be settled when it ends."""

    public_id: str
    slot: str
    window: int
    estimate: int
    headers: list[tuple[bytes, bytes]]


def check_access(key: KeyContext, endpoint: str, client_ip: str) -> None:
    """Raise a 403 unless the key may call ``endpoint`` from ``client_ip``."""
    limits = key.limits
    if not limits:
        return
    endpoints = limits.get("allowed_endpoints")
    if endpoints is not None and endpoint.split("/{")[0] not in endpoints:
        raise _forbidden(
            f"This API key may not call /v1/{endpoint.split('/{')[0]}.",
            "endpoint_not_allowed",
        )
    networks = limits.get("allowed_ips")
    if networks is not None and not _ip_allowed(client_ip, tuple(networks)):
        raise _forbidden(
            f"This API key may not be used from {client_ip}.", "ip_not_allowed"
        )


def check_model(key: KeyContext, model_id: str) -> None:
    if not model_allowed(key, model_id):
        raise ProxyError(
            403,
            f"This API key may not use the model '{model_id}'.",
            type="permission_error",
            code="model_not_allowed",
            param="model",
            limit="model",
        )


def model_allowed(key: KeyContext, model_id: str) -> bool:
    allowed = key.limits.get("allowed_models") if key.limits else None
    if allowed is None:
        return True
    provider = model_id.split("/", 1)[0]
    return model_id in allowed or f"{provider}/*" in allowed


async def admit(key: KeyContext, body: dict) -> Admission | None:
    """Count the request against the key's rate limits, or raise a 429.

    Return None when the key has no rate limits (nothing to settle).
    """
    limits = key.limits
    if not limits or not any(name in limits for name in _RATE_LIMITS):
        return None
    quota = Quota(
        max_concurrency=limits.get("max_concurrency", 0),
        rpm=limits.get("rpm", 0),
        tpm=limits.get("tpm", 0),
        estimate=estimate_tokens(body) if "tpm" in limits else 0,
    )
    slot = uuid.uuid4().hex if quota.max_concurrency else ""
    try:
        result = await _admit(key.counted_as, quota, slot)
    except (RedisError, OSError) as exc:
        _unavailable(key, exc)
        return None
    if result.refused:
        raise _too_many(result, quota)
    return Admission(
        key.counted_as, slot, result.window, quota.estimate, _headers(result, quota)
    )


async def keep_slot(admission: Admission) -> None:
    """Keep a long request's concurrency slot from lapsing, until cancelled.

    A slot lapses ``LIMITS_SLOT_SECONDS`` after it was last renewed, so that a
    crashed worker's requests stop counting; a live request renews its slot
    three times in that span.
    """
    slot_ms = settings.LIMITS_SLOT_SECONDS * 1000
    while True:
        await asyncio.sleep(settings.LIMITS_SLOT_SECONDS / 3)
        shared = store()
        try:
            if isinstance(shared, RedisStore):
                await shared.aeval(
                    counters.RENEW,
                    counters.RENEW_SHA,
                    counters.redis_keys(admission.public_id)[:1],
                    [admission.slot, slot_ms],
                )
            else:
                _local.renew(admission.public_id, admission.slot, slot_ms)
        except (RedisError, OSError) as exc:
            logger.warning(
                "concurrency slot of key %s not renewed: %s", admission.public_id, exc
            )


async def settle(admission: Admission, tokens_used: int) -> None:
    """Release the request's slot and replace its token estimate by its usage."""
    delta = tokens_used - admission.estimate
    shared = store()
    try:
        if isinstance(shared, RedisStore):
            keys = counters.redis_keys(admission.public_id)
            await shared.aeval(
                counters.SETTLE,
                counters.SETTLE_SHA,
                [keys[0], keys[2]],
                [admission.slot, admission.window, delta],
            )
        else:
            _local.settle(admission.public_id, admission.slot, admission.window, delta)
    except (RedisError, OSError):
        # The slot lapses by itself after LIMITS_SLOT_SECONDS.
        logger.warning(
            "rate limit settle failed for key %s", admission.public_id, exc_info=True
        )


def estimate_tokens(body: dict) -> int:
    """Return a cautious token count for admission: prompt size plus max output."""
    most = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    output = most if isinstance(most, int) and most > 0 else 0
    return prompt_estimate(body) + output


# What a provider counts as prompt: the messages or input, and the system
# prompt, tool definitions and output schema sent with them.
PROMPT_FIELDS = (
    "messages", "input", "system", "tools", "functions", "tool_choice",
    "response_format",
)  # fmt: skip


# An image costs the provider tokens by its pixels, not by the length of its
# URL or base64: it is reserved at about what the largest images cost at
# OpenAI and Anthropic. Files and audio count by their bytes and at least
# that much again, since one named only by id or URL shows no size at all.
IMAGE_TOKENS = 1600
IMAGE_TYPES = frozenset({"image_url", "input_image", "image"})
MEDIA_TYPES = frozenset({"file", "input_file", "document", "input_audio"})
MEDIA_WORDS = (b"image", b"file", b"audio", b"document")


def prompt_estimate(body: dict) -> int:
    """Return a cautious token count for the prompt: about four bytes a token,
    IMAGE_TOKENS an image, and that much more a file or audio part."""
    size = images = 0
    for name in PROMPT_FIELDS:
        if name in body:
            encoded = orjson.dumps(body[name])
            media = any(word in encoded for word in MEDIA_WORDS)
            try:
                counted, found = _measure(body[name]) if media else (len(encoded), 0)
            except RecursionError:  # nested past any real prompt
                counted, found = len(encoded), 0
            size, images = size + counted, images + found
    return size // 4 + 1 + images * IMAGE_TOKENS


def _measure(value: object) -> tuple[int, int]:
    """Bytes of ``value`` outside its images, and how many images it holds."""
    if isinstance(value, dict):
        if value.get("type") in IMAGE_TYPES:
            return 0, 1
        size, images = 0, int(value.get("type") in MEDIA_TYPES)
        for name, item in value.items():
            counted, found = _measure(item)
            size, images = size + len(name) + counted, images + found
        return size, images
    if isinstance(value, list):
        parts = [_measure(item) for item in value]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    return len(orjson.dumps(value)), 0


async def _admit(public_id: str, quota: Quota, slot: str) -> Verdict:
    slot_ms = settings.LIMITS_SLOT_SECONDS * 1000
    shared = store()
    if not isinstance(shared, RedisStore):
        return _local.admit(public_id, quota, slot, slot_ms)
    reply = await shared.aeval(
        counters.ADMIT,
        counters.ADMIT_SHA,
        counters.redis_keys(public_id),
        [quota.max_concurrency, quota.rpm, quota.tpm, quota.estimate, slot, slot_ms],
    )
    return counters.verdict(reply)


def _unavailable(key: KeyContext, exc: Exception) -> None:
    store_unavailable(key, exc, "rate limits")


def store_unavailable(key: KeyContext, exc: Exception, what: str) -> None:
    """Apply the organisation's policy for limits that cannot be checked.

    Refuse with a 503 (the default), or let the request through and log a
    warning when the organisation chose ``limits_fail_open``.
    """
    if key.fail_open:
        logger.warning(
            "%s not enforced for key %s: the store failed (%s); the "
            "organisation's limits policy (fail open) lets the request through",
            what,
            key.public_id,
            exc,
        )
        return
    logger.error("%s cannot be checked for key %s", what, key.public_id, exc_info=exc)
    raise ProxyError(
        503,
        f"The gateway cannot check this key's {what}; try again shortly.",
        type="server_error",
        code="service_unavailable",
        headers={"retry-after": "5"},
    )


def _too_many(result: Verdict, quota: Quota) -> ProxyError:
    if result.refused == counters.CONCURRENCY:
        message = (
            f"Rate limit reached on concurrent requests: limit "
            f"{quota.max_concurrency}. Retry when one of them has finished."
        )
        kind, retry_after, limit = "requests", 1, "concurrency"
    elif result.refused == counters.REQUESTS:
        message = f"Rate limit reached on requests per minute (RPM): limit {quota.rpm}."
        kind, retry_after = "requests", math.ceil(result.reset_ms / 1000)
        limit = "requests"
    elif quota.estimate > quota.tpm:
        # No window will ever admit it: OpenAI's "Request too large".
        message = (
            f"Request too large for this key's tokens per minute (TPM): limit "
            f"{quota.tpm}, requested about {quota.estimate}. Send a shorter "
            "prompt or a lower max_tokens."
        )
        kind, retry_after = "tokens", math.ceil(result.reset_ms / 1000)
        limit = "tokens"
    else:
        message = (
            f"Rate limit reached on tokens per minute (TPM): limit {quota.tpm}, "
            f"requested about {quota.estimate}."
        )
        kind, retry_after = "tokens", math.ceil(result.reset_ms / 1000)
        limit = "tokens"
    headers = {name.decode(): value.decode() for name, value in _headers(result, quota)}
    headers["retry-after"] = str(max(retry_after, 1))
    return ProxyError(
        429,
        message,
        type=kind,
        code="rate_limit_exceeded",
        headers=headers,
        limit=limit,
    )


def _headers(result: Verdict, quota: Quota) -> list[tuple[bytes, bytes]]:
    reset = _duration(result.reset_ms).encode()
    headers = []
    if quota.rpm:
        headers += [
            (b"x-ratelimit-limit-requests", str(quota.rpm).encode()),
            (
                b"x-ratelimit-remaining-requests",
                str(result.remaining_requests).encode(),
            ),
            (b"x-ratelimit-reset-requests", reset),
        ]
    if quota.tpm:
        headers += [
            (b"x-ratelimit-limit-tokens", str(quota.tpm).encode()),
            (b"x-ratelimit-remaining-tokens", str(result.remaining_tokens).encode()),
            (b"x-ratelimit-reset-tokens", reset),
        ]
    return headers


def _duration(ms: int) -> str:
    """Return ``ms`` the way OpenAI writes its reset headers: ``850ms``, ``12.5s``."""
    if ms < 1000:
        return f"{ms}ms"
    return f"{ms / 1000:g}s"


def _forbidden(message: str, code: str) -> ProxyError:
    kind = code.removesuffix("_not_allowed")  # "endpoint" or "ip"
    return ProxyError(403, message, type="permission_error", code=code, limit=kind)


@lru_cache(maxsize=1024)
def _ip_allowed(client_ip: str, networks: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in networks)
