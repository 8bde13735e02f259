"""A gateway whose Redis is down: keys still authenticate, and each
organisation's policy decides what happens to limited keys."""

from __future__ import annotations

import asyncio
import socket
import time

from django.test import override_settings

import pytest
from redis.exceptions import RedisError

from accounts.services import organization_update
from gateway_project.store import RedisStore
from keys.services import api_key_create, api_key_revoke
from tests.conftest import start_gateway, stop
from tests.factories import make_tenant
from tests.test_key_rate_limits import chat, closed_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_down(gateway, tmp_path):
    """A second gateway on the same database whose Redis cannot be reached."""
    server = start_gateway(
        tmp_path / "down.log", REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"
    )
    yield server
    stop(server)


def test_keys_without_limits_keep_working(redis_down, tenant):
    for _ in range(3):
        response = chat(redis_down.base_url, tenant.key)
        assert response.status_code == 200, response.text

    forged = tenant.key[:-6] + "AAAAAA"
    assert chat(redis_down.base_url, forged).status_code == 401
    assert "Redis is unreachable" in redis_down.log_text()


def test_limited_keys_are_refused_by_default(redis_down, tenant):
    rpm = api_key_create(project=tenant.project, name="rpm", limits={"rpm": 50})[1]
    budget = api_key_create(
        project=tenant.project, name="tokens", limits={"budget_tokens": 10_000}
    )[1]

    for key in (rpm, budget):
        response = chat(redis_down.base_url, key)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "service_unavailable"
        assert response.headers["retry-after"]


def test_an_organisation_that_fails_open_is_let_through_with_a_warning(
    redis_down, fake_upstream
):
    tenant = make_tenant(upstream_url=fake_upstream.base_url + "/v1")
    organization_update(organization=tenant.organization, limits_fail_open=True)
    limited = {"rpm": 1, "max_concurrency": 1, "budget_tokens": 10_000}
    key = api_key_create(project=tenant.project, name="open", limits=limited)[1]

    statuses = [chat(redis_down.base_url, key).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    log = redis_down.log_text()
    assert "rate limits not enforced" in log and "budget not enforced" in log
    assert "fail open" in log


def test_a_key_revoked_during_the_outage_stops_working(redis_down, tenant):
    api_key, key = api_key_create(project=tenant.project, name="soon revoked")
    assert chat(redis_down.base_url, key).status_code == 200

    api_key_revoke(api_key=api_key)

    # Each process keeps a key it verified during the outage for 5 seconds.
    served = 0
    deadline = time.monotonic() + 7
    while (response := chat(redis_down.base_url, key)).status_code == 200:
        served += 1
        assert time.monotonic() < deadline, "still served after the cache time"
        time.sleep(0.2)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key has been revoked."


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers, like a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


@override_settings(REDIS_SOCKET_TIMEOUT=0.3, REDIS_RETRY_SECONDS=5)
def test_a_hung_redis_costs_one_timeout_then_fails_fast(silent_redis):
    hung = RedisStore(silent_redis, "t:")

    async def attempt() -> float:
        started = time.monotonic()
        with pytest.raises(RedisError):
            await hung.aget("k")
        return time.monotonic() - started

    async def twice() -> tuple[float, float]:
        return await attempt(), await attempt()

    first, second = asyncio.run(twice())

    assert 0.25 < first < 2
    assert second < 0.05


def test_keys_answer_quickly_while_redis_hangs(gateway, tenant, silent_redis, tmp_path):
    server = start_gateway(
        tmp_path / "hung.log", REDIS_URL=silent_redis, REDIS_SOCKET_TIMEOUT="0.5"
    )
    try:
        chat(server.base_url, tenant.key)  # pays the timeout once
        started = time.monotonic()
        statuses = [chat(server.base_url, tenant.key).status_code for _ in range(5)]
        elapsed = time.monotonic() - started
    finally:
        stop(server)

    assert statuses == [200] * 5
    assert elapsed < 2.5  # not five timeouts
