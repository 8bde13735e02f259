"""The OpenAI-compatible endpoints under ``/v1/``, as a plain ASGI application.

The proxy path skips Django's request machinery: it authenticates with one
store read, resolves the route from a per-worker cache, and streams the
provider's answer straight through. Usage is recorded after the response.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

import orjson
from asgiref.sync import sync_to_async
from redis.exceptions import RedisError

from audit.security import security_event
from gateway_project import logcontext
from gateway_project.logfilters import mask_secrets
from guardrails.engine import Blocked, Guard, GuardFailed
from guardrails.models import GuardrailEvent
from keys.auth import KeyContext, KeyRejected, authenticate
from providers.adapters import Adapter, Target, UpstreamError
from providers.adapters.anthropic import AnthropicAdapter, openai_usage
from providers.adapters.base import invalid_response
from providers.catalogue import ModelSpec
from providers.crypto import TRANSIT_KEY_PREFIX
from providers.transit import TransitError
from proxy import budgets, guarding, limits, metrics
from proxy.content import TextCapture, capture_for
from proxy.errors import ProxyError
from proxy.http import Exchange, Receive, Scope, Send
from proxy.metering import StreamMeter
from proxy.models import UsageRecord
from proxy.routing import credentials_for, resolve, visible_models
from proxy.usage import recorder
from proxy.validation import check_chat, check_embeddings, check_messages

logger = logging.getLogger(__name__)

# A request full of e-mail addresses records this many findings, not thousands.
MAX_EVENTS_PER_REQUEST = 100
STREAM_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


@dataclass
class Call:
    """What one proxied request did, for its usage record."""

    exchange: Exchange
    endpoint: str
    started: float = field(default_factory=time.perf_counter)
    key: KeyContext | None = None
    model: str = ""
    target: Target | None = field(default=None, repr=False)
    stream: bool = False
    status: int = 200
    error_code: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: int | None = None
    watcher: asyncio.Task | None = None
    text: TextCapture | None = field(default=None, repr=False)
    admission: limits.Admission | None = None
    slot_keeper: asyncio.Task | None = None
    price: budgets.Price | None = None
    budget: budgets.Hold | None = None
    meter: StreamMeter | None = None
    guard: Guard | None = field(default=None, repr=False)
    # The text output guardrails still hold, as bytes to send (streams only).
    leftovers: Callable[[], bytes] | None = field(default=None, repr=False)
    body: dict | None = field(default=None, repr=False)
    upstream_reached: bool = False
    upstream_error: str = ""  # the kind of provider failure, for the metrics
    limit: str = ""  # the kind of limit that refused the request

    def watch_disconnect(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.watcher = asyncio.create_task(self.exchange.watch_disconnect(task))

    def route(self, model: str, target: Target) -> None:
        self.model, self.target = model, target

    @property
    def provider_secret(self) -> str:
        return self.target.api_key if self.target is not None else ""

    @property
    def spec(self) -> ModelSpec | None:
        return self.target.spec if self.target is not None else None

    def count(self, usage: object) -> None:
        if isinstance(usage, dict):
            self.prompt_tokens = _tokens(usage.get("prompt_tokens"))
            self.completion_tokens = _tokens(usage.get("completion_tokens"))

    def capture(self, reply: dict) -> None:
        if self.text is not None:
            self.text.reply(reply)

    async def check_answer(self, result: dict) -> None:
        if self.guard is not None:
            await guarding.check_answer(self.guard, self.endpoint, result)

    def failed(self, error: ProxyError) -> None:
        self.status, self.error_code = error.status, error.code or error.type
        self.limit = error.limit

    def upstream_failed(self, exc: UpstreamError) -> ProxyError:
        self.upstream_error = metrics.upstream_kind(exc.status, exc.code)
        # What failed, never the provider's message (it may quote the key).
        logger.warning(
            "upstream failed provider=%s model=%s status=%s kind=%s code=%s",
            self.target.provider if self.target is not None else "-",
            self.model or "-",
            exc.status,
            self.upstream_error,
            exc.code or "-",
        )
        return ProxyError.from_upstream(exc, self.provider_secret)

    def metered(self, item: object) -> None:
        """Count a relayed stream item; raise once the stream outgrows its hold."""
        if self.meter is None:
            return
        self.meter.feed(item)
        if self.meter.over:
            raise ProxyError(
                429,
                "This API key's budget does not cover more output; the stream "
                "was ended.",
                type="insufficient_quota",
                code="budget_exceeded",
                limit="budget",
            )

    def fill_unreported_usage(self) -> None:
        """Estimate what the provider did not report for a call cut short.

        A client that hangs up, a timeout or a broken stream leaves no usage
        from the provider, yet the prompt was read and output produced.
        """
        produced = self.meter.billable if self.meter is not None else 0
        if not self.completion_tokens:
            self.completion_tokens = produced
        cut_short = produced or self.status in (499, 504)
        if not self.prompt_tokens and self.upstream_reached and cut_short:
            self.prompt_tokens = self.prompt_estimate

    @cached_property
    def prompt_estimate(self) -> int:
        """The prompt's size in tokens, estimated only when a call needs it."""
        return limits.prompt_estimate(self.body) if self.body is not None else 0

    def first_token(self) -> None:
        self.ttft_ms = int(self.elapsed() * 1000)

    def elapsed(self) -> float:
        """Seconds since the request arrived."""
        return time.perf_counter() - self.started

    def usage_record(self) -> UsageRecord:
        assert self.key is not None
        cost = None
        if self.price is not None:
            cost = self.price.cost(self.prompt_tokens, self.completion_tokens)
        usage = UsageRecord(
            organization_id=self.key.organization_id,
            project_id=self.key.project_id,
            api_key_id=self.key.api_key_id,
            request_id=self.exchange.request_id,
            endpoint=self.endpoint,
            model=self.model[:200],
            provider=self.target.provider if self.target is not None else "",
            stream=self.stream,
            status_code=self.status,
            error_code=self.error_code[:60],
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=cost,
            latency_ms=int(self.elapsed() * 1000),
            ttft_ms=self.ttft_ms,
            created_at=timezone.now(),
        )
        usage.pending_text = self.text.payload() if self.text is not None else None
        usage.pending_events = self.guardrail_events()
        return usage

    def guardrail_events(self) -> list[GuardrailEvent]:
        if self.guard is None or not self.guard.hits:
            return []
        assert self.key is not None
        now = timezone.now()
        return [
            GuardrailEvent(
                organization_id=self.key.organization_id,
                project_id=self.key.project_id,
                api_key_id=self.key.public_id,
                request_id=self.exchange.request_id,
                detector=hit.detector,
                type=hit.type[:80],
                rule=hit.rule[:80],
                action=hit.action,
                direction=hit.direction,
                location=hit.location[:120],
                value_hash=hit.value_hash,
                confidence=hit.confidence,
                created_at=now,
            )
            for hit in self.guard.hits[:MAX_EVENTS_PER_REQUEST]
        ]


async def chat_completions(call: Call) -> None:
    body = await call.exchange.read_json()
    check_chat(body)
    call.watch_disconnect()
    adapter, target = await _route(call, body)
    if body.get("stream"):
        call.stream = True
        await _stream_chat(call, adapter, target, body)
        return
    result = await adapter.chat(target, body)
    call.count(result.get("usage"))
    await call.check_answer(result)
    call.capture(result)
    await call.exchange.json(200, result)


async def embeddings(call: Call) -> None:
    body = await call.exchange.read_json()
    check_embeddings(body)
    call.watch_disconnect()
    adapter, target = await _route(call, body)
    result = await adapter.embeddings(target, body)
    call.count(result.get("usage"))
    await call.exchange.json(200, result)


async def messages(call: Call) -> None:
    """Anthropic's Messages API, relayed as it is to Anthropic models."""
    body = await call.exchange.read_json()
    check_messages(body)
    call.watch_disconnect()
    adapter, target = await _route(call, body)
    if not isinstance(adapter, AnthropicAdapter):
        raise ProxyError(
            400,
            f"'{body['model']}' is not an Anthropic model; /v1/messages serves "
            "Anthropic models, /v1/chat/completions serves every model.",
            param="model",
        )
    if body.get("stream"):
        call.stream = True
        secret = call.provider_secret.encode()
        stream = await adapter.messages_stream(target, body)
        guarded = guarding.messages_stream(call.guard) if call.guard else None

        def named(events: list[tuple[str, dict]]) -> bytes:
            return b"".join(_named_event(name, data, secret) for name, data in events)

        def encode(event: tuple[str, dict]) -> bytes:
            return named(guarded(*event) if guarded else [event])

        if guarded is not None:
            call.leftovers = lambda: named(guarded.leftovers())
        await _relay(call, stream, encode, b"")
        return
    result = await adapter.messages(target, body)
    call.count(openai_usage(result.get("usage")))
    await call.check_answer(result)
    call.capture(result)
    await call.exchange.json(200, result)


def _named_event(name: str, data: dict, secret: bytes) -> bytes:
    payload = orjson.dumps(data)
    if secret and secret in payload:
        # Relayed as they are, events could carry the key a provider echoed.
        payload = payload.replace(secret, b"[redacted]")
    return b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"


async def list_models(call: Call) -> None:
    assert call.key is not None
    credentials = await credentials_for(call.key.organization_id, call.key.project_id)
    data = [
        {"id": model, "object": "model", "created": 0, "owned_by": model.split("/")[0]}
        for model in visible_models(credentials)
        if limits.model_allowed(call.key, model)
    ]
    await call.exchange.json(200, {"object": "list", "data": data})


async def retrieve_model(call: Call) -> None:
    assert call.key is not None
    name = call.exchange.scope["path"].rstrip("/").removeprefix("/v1/models/")
    credentials = await credentials_for(call.key.organization_id, call.key.project_id)
    if name not in visible_models(credentials):
        raise ProxyError(
            404, f"The model '{name}' does not exist.", code="model_not_found"
        )
    limits.check_model(call.key, name)
    owner = name.split("/")[0]
    await call.exchange.json(
        200, {"id": name, "object": "model", "created": 0, "owned_by": owner}
    )


def _pattern_route(path: str) -> tuple[str, Handler] | None:
    if path.startswith("/v1/models/") and len(path) > len("/v1/models/"):
        return ("GET", retrieve_model)
    return None


async def _route(call: Call, body: dict) -> tuple[Adapter, Target]:
    assert call.key is not None
    credentials = await credentials_for(call.key.organization_id, call.key.project_id)
    if credentials.master_key_id.startswith(TRANSIT_KEY_PREFIX):
        # Unwrapping the data key may ask Vault: not on the event loop.
        adapter, target = await sync_to_async(resolve, thread_sensitive=False)(
            body["model"], credentials
        )
    else:
        adapter, target = resolve(body["model"], credentials)
    call.route(body["model"], target)
    model_id = f"{target.provider}/{target.model}"
    limits.check_model(call.key, model_id)
    call.price = budgets.price_for(model_id, target.spec, credentials.model_prices)
    call.body = body
    output = 0 if call.endpoint == "embeddings" else None
    # Budget first: a request it refuses consumes no rate limit, and one the
    # rate limits refuse has its reservation released by the settlement.
    call.budget = await budgets.reserve(
        call.key, model_id, body, call.price, output=output
    )
    call.admission = await limits.admit(call.key, body)
    if call.admission is not None:
        call.exchange.response_headers.extend(call.admission.headers)
        if call.admission.slot:
            call.slot_keeper = asyncio.create_task(limits.keep_slot(call.admission))
    # Guardrails after admission: scanning is the costly part, so a key's rate
    # limits bound how much of it the key can ask for; a blocked request then
    # counts as a request and its reservation is released.
    call.guard = await guarding.guard_for(call.key.organization_id, call.key.project_id)
    await guarding.check_request(call.guard, call.endpoint, body)
    call.text = await capture_for(call.key.organization_id, body)
    cap = call.budget.output_reserved if call.budget is not None else 0
    call.meter = StreamMeter(cap)
    call.upstream_reached = True
    return adapter, target


async def _stream_chat(
    call: Call, adapter: Adapter, target: Target, body: dict
) -> None:
    wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    stream = await adapter.chat_stream(target, body)
    guarded = guarding.chat_stream(call.guard) if call.guard else None

    def encode(chunk: dict) -> bytes:
        return _event(guarded(chunk) if guarded else chunk, wants_usage)

    if guarded is not None:
        call.leftovers = lambda: b"".join(
            _event(chunk, wants_usage) for chunk in guarded.leftovers()
        )

    await _relay(call, stream, encode, b"data: [DONE]\n\n")


class OpenStream(Protocol):
    usage: dict | None

    def __aiter__(self) -> AsyncIterator[Any]: ...

    async def aclose(self) -> None: ...


async def _relay(
    call: Call, stream: OpenStream, encode: Callable[[Any], bytes], last: bytes
) -> None:
    """Relay an open provider stream to the caller as server-sent events."""
    exchange = call.exchange
    if call.text is not None:
        encode = call.text.tap(encode)
    try:
        items = stream.__aiter__()
        # The first item is read before the 200 is sent, so a provider that fails
        # straight away still gets the caller a plain JSON error.
        first = await anext(items, None)
        if first is None:
            raise invalid_response("The provider's stream had no content.")
        call.first_token()
        await exchange.start(200, b"text/event-stream", STREAM_HEADERS)
        with metrics.ACTIVE_STREAMS.track_inprogress():
            try:
                call.metered(first)
                await exchange.write(encode(first))
                async for item in items:
                    call.metered(item)
                    data = encode(item)
                    if data:
                        await exchange.write(data)
            except UpstreamError as exc:
                error = call.upstream_failed(exc)
                call.failed(error)
                await _release_held(call)
                await exchange.end_stream_with(error)
                return
            await exchange.end(last)
    finally:
        call.count(stream.usage)
        await stream.aclose()


async def _release_held(call: Call) -> None:
    """Send the text output guardrails held back, checked, before an error."""
    if call.leftovers is None:
        return
    try:
        held = call.leftovers()
    except (Blocked, GuardFailed):
        return  # the error event follows; the held text stays unsent
    if held:
        await call.exchange.write(held)


def _event(chunk: dict, wants_usage: bool) -> bytes:
    if not wants_usage:
        if "usage" in chunk and not chunk.get("choices"):
            return b""
        chunk.pop("usage", None)
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


# CORS for /v1: off unless PROXY_CORS_ALLOWED_ORIGINS lists origins (or
# "*"). Keys travel as bearer headers, never cookies: no credentials allowed.
PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST"),
    (
        b"access-control-allow-headers",
        b"authorization, x-api-key, content-type, anthropic-version, "
        b"anthropic-beta, x-request-id, openai-organization, openai-project",
    ),
    (b"access-control-max-age", b"86400"),
]


def cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    allowed = settings.PROXY_CORS_ALLOWED_ORIGINS
    if not origin or not allowed or not (origin in allowed or "*" in allowed):
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"vary", b"origin"),
        (
            b"access-control-expose-headers",
            b"x-request-id, retry-after, x-ratelimit-limit-requests, "
            b"x-ratelimit-remaining-requests, x-ratelimit-limit-tokens, "
            b"x-ratelimit-remaining-tokens, x-ratelimit-reset-requests, "
            b"x-ratelimit-reset-tokens",
        ),
    ]


_QUERY_KEY = re.compile(
    rb"(?:^|&)(?:api[_-]?key|key|access[_-]?token|token|authorization)=|wdn_", re.I
)


def key_in_query(query: bytes) -> bool:
    """Whether the address carries something meant to authenticate."""
    return bool(_QUERY_KEY.search(unquote_to_bytes(query)))


@lru_cache(maxsize=512)
def host_allowed(host: str) -> bool:
    """Apply ``ALLOWED_HOSTS`` as Django does for its own views."""
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _tokens(value: object) -> int:
    """Return a provider's token count, or 0 when it sent something else."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, 2**31 - 1)
    return 0


Handler = Callable[[Call], Awaitable[None]]
ROUTES: dict[str, tuple[str, Handler]] = {
    "/v1/chat/completions": ("POST", chat_completions),
    "/v1/embeddings": ("POST", embeddings),
    "/v1/messages": ("POST", messages),
    "/v1/models": ("GET", list_models),
}


async def refuse(scope: Scope, receive: Receive, send: Send, error: ProxyError) -> None:
    """Answer a request refused before it reaches the proxy proper."""
    await _refuse(Exchange.open(scope, receive, send), error)


def _ambiguous_headers(headers: list[tuple[bytes, bytes]]) -> ProxyError | None:
    """Refuse a Host or credential header given twice.

    A server or proxy in front might read the first of two where the gateway
    reads the last, and check one host or key while another is used.
    """
    names = [name for name, _ in headers if name in _SINGLE_HEADERS]
    if names.count(b"host") != 1:
        return _wrong_host()
    if len(names) != len(set(names)):
        return ProxyError(
            400,
            "The Authorization and x-api-key headers may be given once each.",
            code="duplicate_header",
        )
    return None


_SINGLE_HEADERS = frozenset((b"host", b"authorization", b"x-api-key"))


def _wrong_host() -> ProxyError:
    return ProxyError(400, "The Host header is not one this gateway serves.")


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    exchange = Exchange.open(scope, receive, send)
    logcontext.bind(exchange.request_id)
    refused = _ambiguous_headers(scope["headers"])
    if refused is None and not host_allowed(exchange.headers["host"]):
        refused = _wrong_host()
    if refused is not None:
        await _refuse(exchange, refused)
        return
    cors = cors_headers(exchange.headers.get("origin", ""))
    if cors:
        exchange.response_headers.extend(cors)
        if scope["method"] == "OPTIONS":
            await exchange.send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [*cors, *PREFLIGHT, exchange.request_id_header],
                }
            )
            await exchange.send({"type": "http.response.body", "body": b""})
            return
    if key_in_query(scope.get("query_string", b"")):
        # Addresses end up in logs and browser histories: a key there is
        # refused before anything looks at it, and not echoed.
        await _refuse(
            exchange,
            ProxyError(
                400,
                "API keys go in the Authorization header, never in the address.",
                code="key_in_query",
            ),
        )
        return
    path = scope["path"].rstrip("/")
    route = ROUTES.get(path) or _pattern_route(path)
    if route is None or route[0] != scope["method"]:
        await _refuse(exchange, _no_route(scope, route[0] if route else None))
        return
    endpoint = path.removeprefix("/v1/") if path in ROUTES else "models/{id}"
    call = Call(exchange, endpoint=endpoint)
    try:
        call.key = await authenticate(exchange.bearer, exchange.client_ip)
        logcontext.identify(
            organization=call.key.organization_id,
            project=call.key.project_id,
            key=call.key.public_id,
        )
        limits.check_access(call.key, endpoint, exchange.client_ip)
        await route[1](call)
    except asyncio.CancelledError:
        if not exchange.disconnected:
            raise
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
        call.status, call.error_code = 499, "client_disconnected"
    except Exception as exc:
        if isinstance(exc, UpstreamError):
            error = call.upstream_failed(exc)
        else:
            error = _as_proxy_error(exc)
        call.failed(error)
        _report_refusal(call, exc)
        if not exchange.started:
            await exchange.error(error)
        elif not exchange.finished:
            await exchange.end_stream_with(error)
    finally:
        if call.watcher is not None:
            call.watcher.cancel()
        if call.slot_keeper is not None:
            call.slot_keeper.cancel()
        call.fill_unreported_usage()
        if call.budget is not None:
            await budgets.settle(
                call.budget, call.prompt_tokens, call.completion_tokens
            )
        if call.admission is not None:
            used = call.prompt_tokens + call.completion_tokens
            await limits.settle(call.admission, used)
        if call.key is not None:
            recorder().record(call.usage_record())
        metrics.observe(call)


async def _refuse(exchange: Exchange, error: ProxyError) -> None:
    """Answer a request refused before it reached an endpoint."""
    await exchange.error(error)
    metrics.refused_early(error.status)


def _report_refusal(call: Call, exc: Exception) -> None:
    """Put a genuine key's refusal on its organisation's audit trail."""
    if isinstance(exc, KeyRejected) and exc.organization_id is not None:
        security_event(
            organization_id=exc.organization_id,
            reason=exc.reason,
            endpoint=call.endpoint,
            api_key=exc.public_id,
            client_ip=call.exchange.client_ip,
            request_id=call.exchange.request_id,
            user_agent=call.exchange.headers.get("user-agent", ""),
        )


def _as_proxy_error(exc: Exception) -> ProxyError:
    if isinstance(exc, ProxyError):
        return exc
    if isinstance(exc, KeyRejected):
        headers = {"retry-after": str(exc.retry_after)} if exc.retry_after else {}
        kind = "rate_limit_error" if exc.status == 429 else "invalid_request_error"
        code = "too_many_failed_attempts" if exc.status == 429 else "invalid_api_key"
        return ProxyError(
            exc.status,
            exc.message,
            type=kind,
            code=code,
            headers=headers,
            limit="key_failures" if exc.status == 429 else "",
        )
    if isinstance(exc, Blocked | GuardFailed):
        return guarding.refusal(exc)
    if isinstance(exc, TransitError):
        logger.error("the data key could not be unwrapped", exc_info=exc)
        return _unavailable("its key service")
    if isinstance(exc, RedisError | DatabaseError):
        logger.error("proxy backing service failed", exc_info=exc)
        return _unavailable("its database or cache")
    logger.error("proxy request failed", exc_info=exc)
    return ProxyError(
        500, "The gateway failed to process the request.", type="server_error"
    )


def _unavailable(what: str) -> ProxyError:
    return ProxyError(
        503,
        f"The gateway cannot reach {what}; try again shortly.",
        type="server_error",
        code="service_unavailable",
        headers={"retry-after": "5"},
    )


def _no_route(scope: Scope, allowed: str | None) -> ProxyError:
    if allowed is None:
        # A key pasted into the path is not repeated back.
        path = mask_secrets(scope["path"])
        return ProxyError(404, f"Unknown endpoint {path}.", code="not_found")
    return ProxyError(
        405,
        f"Method {scope['method']} is not allowed here.",
        code="method_not_allowed",
        headers={"allow": allowed},
    )
