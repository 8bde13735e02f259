"""A key's rpm, tpm and max_concurrency, enforced by real gateway processes."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from django.test import override_settings

import httpx
import openai
import pytest

from gateway_project.store import RedisStore
from keys.auth import KeyContext
from keys.services import api_key_create
from proxy import limits
from proxy.counters import LocalCounters, Quota
from proxy.errors import ProxyError
from tests.conftest import start_gateway, stop

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]
CHAT = {"model": "openai/gpt-4o-mini", "messages": HELLO}
SLOW = {"model": "openai/fake-slow-stream", "messages": HELLO, "stream": True}


def limited_key(tenant, **key_limits) -> str:
    return api_key_create(project=tenant.project, name="limited", limits=key_limits)[1]


def chat(base_url: str, key: str, body: dict = CHAT) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(
        base_url + "/v1/chat/completions", headers=headers, json=body, timeout=10
    )


def away_from_window_edge(margin: float = 8.0) -> None:
    """Wait for the next minute if the current 60-second window ends soon."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)


def assert_rate_limited(response: httpx.Response, kind: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert error["type"] == kind


def first_line(response: httpx.Response) -> Iterator[str]:
    """Read the stream's first line and return the iterator holding it open.

    A dropped ``iter_lines`` generator closes the connection, which the gateway
    rightly sees as the client hanging up.
    """
    lines = response.iter_lines()
    assert next(lines).startswith("data: ")
    return lines


def wait_until_served(base_url: str, key: str) -> httpx.Response:
    deadline = time.monotonic() + 5
    while True:
        response = chat(base_url, key)
        if response.status_code != 429 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


@pytest.mark.services
def test_rpm_holds_across_two_gateways_sharing_redis(gateway, tenant, tmp_path):
    key = limited_key(tenant, rpm=5)
    second = start_gateway(tmp_path / "second.log")
    try:
        away_from_window_edge()
        urls = [gateway.base_url, second.base_url] * 10
        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(lambda url: chat(url, key), urls))
    finally:
        stop(second)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [429] * 15
    for response in responses:
        if response.status_code == 429:
            assert_rate_limited(response, "requests")


def test_successful_responses_carry_openai_rate_limit_headers(gateway, tenant):
    away_from_window_edge()
    client = openai.OpenAI(
        base_url=gateway.v1, api_key=limited_key(tenant, rpm=10, tpm=5000)
    )

    first = client.chat.completions.with_raw_response.create(**CHAT)
    second = client.chat.completions.with_raw_response.create(**CHAT)

    assert first.headers["x-ratelimit-limit-requests"] == "10"
    assert first.headers["x-ratelimit-remaining-requests"] == "9"
    assert second.headers["x-ratelimit-remaining-requests"] == "8"
    assert second.headers["x-ratelimit-limit-tokens"] == "5000"
    assert int(second.headers["x-ratelimit-remaining-tokens"]) < 5000
    reset = second.headers["x-ratelimit-reset-requests"]
    assert reset.endswith("s")
    assert 0 < float(reset.removesuffix("ms").removesuffix("s")) <= 60_000


def test_streams_carry_rate_limit_headers(gateway, tenant):
    client = openai.OpenAI(base_url=gateway.v1, api_key=limited_key(tenant, rpm=10))

    with client.chat.completions.with_streaming_response.create(
        model="openai/gpt-4o-mini", messages=HELLO, stream=True
    ) as response:
        assert response.headers["x-ratelimit-limit-requests"] == "10"
        assert "x-ratelimit-limit-tokens" not in response.headers
        assert list(response.iter_lines())


def test_key_without_limits_gets_no_rate_limit_headers(client):
    reply = client.chat.completions.with_raw_response.create(**CHAT)

    assert "x-ratelimit-limit-requests" not in reply.headers


def test_tokens_are_settled_with_real_usage(gateway, tenant):
    away_from_window_edge()
    key = limited_key(tenant, tpm=10_000)
    body = {**CHAT, "max_tokens": 900}
    estimate = limits.estimate_tokens(body)

    first = chat(gateway.base_url, key, body)
    second = chat(gateway.base_url, key, body)

    assert int(first.headers["x-ratelimit-remaining-tokens"]) == 10_000 - estimate
    used = first.json()["usage"]["total_tokens"]
    assert 0 < used < estimate
    expected = 10_000 - used - estimate
    assert int(second.headers["x-ratelimit-remaining-tokens"]) == expected


def test_tpm_refuses_once_the_window_is_spent(gateway, tenant):
    away_from_window_edge()
    key = limited_key(tenant, tpm=1000)
    body = {**CHAT, "max_tokens": 600}

    assert chat(gateway.base_url, key, body).status_code == 200
    # Settled at its few real tokens, so a second 600-token request still fits...
    assert chat(gateway.base_url, key, body).status_code == 200
    # ...but not when both estimates are outstanding at once.
    held = limited_key(tenant, tpm=1000, max_concurrency=5)
    with httpx.stream(
        "POST",
        gateway.v1 + "/chat/completions",
        headers={"authorization": f"Bearer {held}"},
        json={**SLOW, "max_tokens": 600},
        timeout=10,
    ) as stream:
        lines = first_line(stream)
        assert_rate_limited(chat(gateway.base_url, held, body), "tokens")
        next(lines)


def test_only_max_concurrency_requests_are_in_flight(gateway, tenant):
    key = limited_key(tenant, max_concurrency=2)
    headers = {"authorization": f"Bearer {key}"}
    url = gateway.v1 + "/chat/completions"

    with httpx.Client(timeout=10) as one, httpx.Client(timeout=10) as two:
        with one.stream("POST", url, headers=headers, json=SLOW) as first:
            lines = first_line(first)
            with two.stream("POST", url, headers=headers, json=SLOW) as second:
                also = first_line(second)
                assert_rate_limited(chat(gateway.base_url, key), "requests")
                next(also)
                # The second caller hangs up mid-stream: its slot comes back.
            next(lines)
            assert wait_until_served(gateway.base_url, key).status_code == 200


@pytest.mark.services
def test_a_long_request_keeps_its_slot_past_the_slot_lifetime(tenant, tmp_path):
    """A slot lapses LIMITS_SLOT_SECONDS after it was last renewed, not after
    admission: a stream longer than that still counts against the limit."""
    short = start_gateway(
        tmp_path / "short.log", LIMITS_SLOT_SECONDS="1", UPSTREAM_READ_TIMEOUT="10"
    )
    key = limited_key(tenant, max_concurrency=1)
    headers = {"authorization": f"Bearer {key}"}
    stalled = {**SLOW, "model": "openai/fake-stall-stream"}
    try:
        with httpx.stream(
            "POST", short.v1 + "/chat/completions", headers=headers, json=stalled
        ) as held:
            lines = first_line(held)
            time.sleep(2.5)  # two and a half slot lifetimes
            assert_rate_limited(chat(short.base_url, key), "requests")
            del lines  # and hang up
        assert wait_until_served(short.base_url, key).status_code == 200
    finally:
        stop(short)


def test_upstream_error_frees_the_slot(gateway, tenant):
    key = limited_key(tenant, max_concurrency=1)
    failing = {"model": "openai/fake-error-500", "messages": HELLO}

    assert chat(gateway.base_url, key, failing).status_code >= 500
    assert chat(gateway.base_url, key).status_code == 200
    assert chat(gateway.base_url, key).status_code == 200


def test_refusal_for_concurrency_does_not_spend_rpm(gateway, tenant):
    away_from_window_edge()
    key = limited_key(tenant, max_concurrency=1, rpm=2)
    headers = {"authorization": f"Bearer {key}"}

    with httpx.stream(
        "POST", gateway.v1 + "/chat/completions", headers=headers, json=SLOW
    ) as held:
        lines = first_line(held)
        for _ in range(3):
            assert_rate_limited(chat(gateway.base_url, key), "requests")
        assert "concurrent" in chat(gateway.base_url, key).json()["error"]["message"]
        next(lines)

    assert wait_until_served(gateway.base_url, key).status_code == 200
    refused = chat(gateway.base_url, key)
    assert_rate_limited(refused, "requests")
    assert "RPM" in refused.json()["error"]["message"]


def test_rate_limit_refusal_on_messages_has_anthropic_shape(gateway, tenant):
    away_from_window_edge()
    key = limited_key(tenant, rpm=1)
    chat(gateway.base_url, key)

    response = httpx.post(
        gateway.v1 + "/messages",
        headers={"x-api-key": key},
        json={"model": "openai/gpt-4o-mini", "max_tokens": 5, "messages": HELLO},
    )

    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The admission itself, against a Redis client whose server is gone (a whole
# gateway with Redis down: tests/test_redis_outage.py).
LIMITED = KeyContext(1, "pubid", 1, 1, limits={"rpm": 5, "max_concurrency": 1})


def unreachable_redis(monkeypatch) -> None:
    dead = RedisStore(f"redis://127.0.0.1:{closed_port()}/0", "t:")
    monkeypatch.setattr(limits, "store", lambda: dead)


@override_settings(REDIS_POOL_TIMEOUT=0.5)
def test_unreachable_redis_refuses_by_default(monkeypatch):
    unreachable_redis(monkeypatch)

    with pytest.raises(ProxyError) as refused:
        asyncio.run(limits.admit(LIMITED, {"messages": HELLO}))

    assert refused.value.status == 503


@override_settings(REDIS_POOL_TIMEOUT=0.5)
def test_unreachable_redis_lets_through_with_a_warning(monkeypatch, caplog):
    unreachable_redis(monkeypatch)
    fail_open = replace(LIMITED, fail_open=True)

    admission = asyncio.run(limits.admit(fail_open, {"messages": HELLO}))

    assert admission is None
    assert "fail open" in caplog.text
    assert caplog.records[-1].levelname == "WARNING"


def test_local_counters_follow_the_same_rules():
    counters = LocalCounters()
    quota = Quota(max_concurrency=1, rpm=2, tpm=0, estimate=0)

    first = counters.admit("k", quota, "a", 60_000)
    assert (first.refused, first.remaining_requests) == ("", 1)
    assert counters.admit("k", quota, "b", 60_000).refused == "concurrency"
    counters.settle("k", "a", first.window, 0)
    assert counters.admit("k", quota, "c", 60_000).refused == ""
    counters.settle("k", "c", first.window, 0)
    assert counters.admit("k", quota, "d", 60_000).refused == "requests"


def test_local_slot_of_a_lost_request_lapses():
    counters = LocalCounters()
    quota = Quota(max_concurrency=1, rpm=0, tpm=0, estimate=0)

    counters.admit("k", quota, "lost", 1)
    time.sleep(0.01)

    assert counters.admit("k", quota, "next", 60_000).refused == ""


def test_a_request_larger_than_the_tpm_limit_is_refused_even_first(gateway, tenant):
    away_from_window_edge()
    key = limited_key(tenant, tpm=100)

    refused = chat(gateway.base_url, key, {**CHAT, "max_tokens": 1000})

    assert_rate_limited(refused, "tokens")
    assert "Request too large" in refused.json()["error"]["message"]
    assert refused.headers["x-ratelimit-limit-tokens"] == "100"
    assert chat(gateway.base_url, key, {**CHAT, "max_tokens": 10}).status_code == 200
