"""Spend and token budgets on a key, enforced by a real gateway process."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from django.test import override_settings

import httpx
import pytest

from accounts.tenancy import platform_context, tenant_context
from gateway_project.store import RedisStore, store
from keys.auth import KeyContext
from keys.models import ApiKey
from keys.services import api_key_create
from proxy import budgets, limits
from proxy.budgets import LocalBudgets, Price
from proxy.errors import ProxyError
from proxy.metering import StreamMeter
from tests.factories import wait_for_usage
from tests.test_key_rate_limits import closed_port


def unreachable_redis(monkeypatch) -> None:
    dead = RedisStore(f"redis://127.0.0.1:{closed_port()}/0", "t:")
    monkeypatch.setattr(budgets, "store", lambda: dead)


pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]
SLOW = {
    "model": "openai/fake-slow-stream",
    "messages": HELLO,
    "stream": True,
    "max_tokens": 100,
}
# A tenth of a cent a token either way, so amounts are easy to follow.
PRICE = {"input_per_mtok": "1000", "output_per_mtok": "1000"}
MICRO_PER_TOKEN = 1000


@pytest.fixture
def priced(tenant):
    """The tenant, with prices set for the fake provider's uncatalogued models."""
    tenant.organization.model_prices = {
        "openai/fake-slow-stream": PRICE,
        "openai/fake-error-500": PRICE,
        "openai/fake-drop-stream": PRICE,
        "openai/fake-stall": PRICE,
        "openai/fake-stall-stream": PRICE,
    }
    tenant.organization.save(update_fields=["model_prices"])
    return tenant


def budget_key(tenant, **key_limits) -> tuple[str, str]:
    api_key, secret = api_key_create(
        project=tenant.project, name="budget", limits=key_limits
    )
    return api_key.public_id, secret


def worst_case_usd(body: dict) -> Decimal:
    tokens = limits.prompt_estimate(body) + body["max_tokens"]
    return Decimal(tokens * MICRO_PER_TOKEN) / 1_000_000


def post(base_url: str, key: str, body: dict, path: str = "/v1/chat/completions"):
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(base_url + path, headers=headers, json=body, timeout=10)


def stream_all(base_url: str, key: str, start: threading.Barrier) -> tuple[int, str]:
    start.wait()
    headers = {"authorization": f"Bearer {key}"}
    url = base_url + "/v1/chat/completions"
    with httpx.stream("POST", url, headers=headers, json=SLOW, timeout=20) as reply:
        return reply.status_code, reply.read().decode()


def spend_counter(public_id: str) -> str:
    """The name of the key's lifetime spend counter in Redis."""
    with platform_context():
        project_id = ApiKey.objects.get(public_id=public_id).project_id
    return budgets.counter_name(project_id, public_id, "usd", None)


def lifetime_counter(public_id: str) -> int | None:
    shared = store()
    if not isinstance(shared, RedisStore):
        pytest.skip("needs the gateway's Redis")
    value = shared.get(spend_counter(public_id))
    return None if value is None else int(value)


def across(gateways, key: str, count: int = 20) -> list[tuple[int, str]]:
    """Start ``count`` streams at once, alternating between the gateways."""
    start = threading.Barrier(count)
    urls = [gateways[n % len(gateways)].base_url for n in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda url: stream_all(url, key, start), urls))


def test_twenty_concurrent_streams_against_a_budget_for_three_admit_three(
    gateway, second_gateway, priced
):
    budget = worst_case_usd(SLOW) * Decimal("3.5")
    _, key = budget_key(priced, budget_usd=str(budget))

    replies = across([gateway, second_gateway], key)

    statuses = sorted(status for status, _ in replies)
    assert statuses == [200] * 3 + [429] * 17
    for status, text in replies:
        if status == 200:
            assert text.rstrip().endswith("data: [DONE]")
        else:
            assert '"code":"budget_exceeded"' in text


def test_client_that_disconnects_is_billed_for_what_was_produced(gateway, priced):
    public_id, key = budget_key(priced, budget_usd="10")
    headers = {"authorization": f"Bearer {key}"}
    url = gateway.v1 + "/chat/completions"

    with httpx.stream("POST", url, headers=headers, json=SLOW, timeout=10) as reply:
        chunks = 0
        for line in reply.iter_lines():
            chunks += line.startswith("data: ")
            if chunks == 5:
                break  # and hang up

    record = wait_for_usage(api_key__public_id=public_id)
    assert record.status_code == 499
    assert 5 <= record.completion_tokens < 20
    assert record.prompt_tokens == limits.prompt_estimate(SLOW)
    tokens = record.prompt_tokens + record.completion_tokens
    assert record.cost_usd == Decimal(tokens * MICRO_PER_TOKEN) / 1_000_000
    assert lifetime_counter(public_id) == tokens * MICRO_PER_TOKEN


def test_settled_spend_is_the_real_usage_and_survives_a_lost_counter(gateway, tenant):
    public_id, key = budget_key(tenant, budget_usd="1")
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO, "max_tokens": 50}
    price = Price(Decimal("0.15"), Decimal("0.60"))

    first = post(gateway.base_url, key, body).json()["usage"]
    spent = price.micro_usd(first["prompt_tokens"], first["completion_tokens"])
    assert lifetime_counter(public_id) == spent

    wait_for_usage(api_key__public_id=public_id)
    store().delete(spend_counter(public_id))
    second = post(gateway.base_url, key, body).json()["usage"]

    again = price.micro_usd(second["prompt_tokens"], second["completion_tokens"])
    assert lifetime_counter(public_id) == spent + again


def test_upstream_error_releases_the_reservation(gateway, priced):
    body = {**SLOW, "stream": False}
    public_id, key = budget_key(priced, budget_usd=str(worst_case_usd(body)))

    failing = {**body, "model": "openai/fake-error-500"}
    assert post(gateway.base_url, key, failing).status_code >= 500
    assert lifetime_counter(public_id) == 0
    assert post(gateway.base_url, key, body).status_code == 200


def test_period_budget_refusal_says_when_it_resets(gateway, tenant):
    _, key = budget_key(tenant, budget_tokens=50, budget_period="day")
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO, "max_tokens": 100}

    refused = post(gateway.base_url, key, body)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "budget_exceeded"
    now = datetime.now(UTC)
    to_midnight = 86_400 - (now.hour * 3600 + now.minute * 60 + now.second)
    assert abs(int(refused.headers["retry-after"]) - to_midnight) <= 5
    assert post(gateway.base_url, key, {**body, "max_tokens": 10}).status_code == 200


def test_lifetime_refusal_has_no_retry_after_and_anthropic_shape_on_messages(
    gateway, tenant
):
    _, key = budget_key(tenant, budget_tokens=20)
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO, "max_tokens": 100}

    refused = httpx.post(
        gateway.v1 + "/messages", headers={"x-api-key": key}, json=body
    )

    assert refused.status_code == 429
    assert "retry-after" not in refused.headers
    assert refused.json()["error"]["type"] == "rate_limit_error"


def test_model_without_a_price_is_refused_under_a_spend_budget(gateway, tenant):
    body = {"model": "openai/fake-chat", "messages": HELLO, "max_tokens": 10}
    _, spend = budget_key(tenant, budget_usd="5")
    _, tokens = budget_key(tenant, budget_tokens=5000)

    refused = post(gateway.base_url, spend, body)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "model_price_unknown"
    assert post(gateway.base_url, tokens, body).status_code == 200


def test_stream_outgrowing_its_reservation_is_ended_with_an_error_event(
    gateway, tenant
):
    tenant.organization.model_prices = {
        "openai/fake-slow-stream": {**PRICE, "max_output": 5}
    }
    tenant.organization.save(update_fields=["model_prices"])
    public_id, key = budget_key(tenant, budget_usd="10")
    body = {key: value for key, value in SLOW.items() if key != "max_tokens"}

    reply = post(gateway.base_url, key, body)

    events = [line for line in reply.text.splitlines() if line.startswith("data: ")]
    assert reply.status_code == 200
    assert '"code":"budget_exceeded"' in events[-1]
    assert len(events) <= 7
    record = wait_for_usage(api_key__public_id=public_id)
    assert record.error_code == "budget_exceeded"
    assert record.completion_tokens == 5  # its reservation, no more


def test_broken_stream_is_billed_for_what_it_sent(gateway, priced):
    public_id, key = budget_key(priced, budget_usd="10")
    body = {**SLOW, "model": "openai/fake-drop-stream"}

    post(gateway.base_url, key, body)

    record = wait_for_usage(api_key__public_id=public_id)
    assert record.completion_tokens > 0
    assert record.prompt_tokens > 0
    assert lifetime_counter(public_id) == (
        (record.prompt_tokens + record.completion_tokens) * MICRO_PER_TOKEN
    )


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_upstream_timeout_bills_what_was_produced(gateway, priced, stream):
    """The gateway gives up on a silent provider after UPSTREAM_READ_TIMEOUT
    (2 s here): the prompt was read and any output sent is billed, not the
    whole reservation and not nothing."""
    public_id, key = budget_key(priced, budget_usd="10")
    model = "openai/fake-stall-stream" if stream else "openai/fake-stall"
    body = {**SLOW, "model": model, "stream": stream}

    reply = post(gateway.base_url, key, body)

    record = wait_for_usage(api_key__public_id=public_id)
    assert record.status_code == 504
    if stream:
        assert reply.status_code == 200
        assert "upstream_timeout" in reply.text.rstrip().splitlines()[-1]
        assert 0 < record.completion_tokens < body["max_tokens"]
    else:
        assert reply.status_code == 504
        assert record.completion_tokens == 0
    assert record.prompt_tokens == limits.prompt_estimate(body)
    tokens = record.prompt_tokens + record.completion_tokens
    assert lifetime_counter(public_id) == tokens * MICRO_PER_TOKEN


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("day", "2026-12-04T23:59:59", "2026-12-04", "2026-12-05"),
        ("week", "2026-12-06T12:00:00", "2026-11-30", "2026-12-07"),
        ("month", "2026-12-31T10:00:00", "2026-12-01", "2027-01-01"),
    ],
)
def test_periods_are_calendar_periods_in_utc(period, now, start, end):
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)

    begins, ends = budgets.period_bounds(period, moment)

    assert (begins.date().isoformat(), ends.date().isoformat()) == (start, end)


def test_local_budgets_follow_the_same_rules():
    counters = LocalBudgets()
    keys = ("key", "project")

    counters.seed("key", 10)
    assert counters.reserve(keys, (100, 80), (60, 60)) == (2, 1)
    counters.seed("project", 0)
    assert counters.reserve(keys, (100, 80), (60, 60)) == (0, 0)
    assert counters.reserve(keys, (100, 80), (10, 30)) == (1, 1)
    counters.settle(keys, (-50, -50))
    assert counters.reserve(keys, (100, 80), (60, 60)) == (0, 0)


def test_stream_meter_counts_pieces_and_text():
    meter = StreamMeter(cap=2)
    chunk = {"choices": [{"delta": {"content": "a" * 40}}]}

    meter.feed(chunk)
    meter.feed(("content_block_delta", {"delta": {"text": "hi"}}))

    assert meter.produced == 11
    assert not meter.over
    meter.feed(chunk)
    assert meter.over


def test_unknown_model_without_organisation_price_has_no_price():
    assert budgets.price_for("openai/fake-chat", None, {}) is None
    custom = budgets.price_for("openai/fake-chat", None, {"openai/fake-chat": PRICE})
    assert custom == Price(Decimal(1000), Decimal(1000))


SPENDING = KeyContext(1, "pubid", 1, 1, limits={"budget_tokens": 100})


@override_settings(REDIS_POOL_TIMEOUT=0.5)
def test_unreachable_redis_refuses_a_key_with_a_budget(monkeypatch):
    unreachable_redis(monkeypatch)

    with pytest.raises(ProxyError) as refused:
        asyncio.run(budgets.reserve(SPENDING, "openai/gpt-4o-mini", {}, None, 9, 9))

    assert refused.value.status == 503


@override_settings(REDIS_POOL_TIMEOUT=0.5)
def test_unreachable_redis_lets_a_budget_through_with_fail_open(monkeypatch, caplog):
    unreachable_redis(monkeypatch)
    fail_open = replace(SPENDING, fail_open=True)

    hold = asyncio.run(budgets.reserve(fail_open, "openai/gpt-4o-mini", {}, None, 9, 9))

    assert hold is None
    assert "fail open" in caplog.text


def test_prompt_estimate_counts_system_prompt_and_tools():
    plain = {"messages": HELLO}
    tool = {
        "type": "function",
        "function": {"name": "lookup", "description": "d" * 400, "parameters": {}},
    }

    baseline = limits.prompt_estimate(plain)

    assert limits.prompt_estimate({**plain, "system": "s" * 400}) >= baseline + 100
    assert limits.prompt_estimate({**plain, "tools": [tool]}) >= baseline + 100
    schema = {"type": "json_schema", "json_schema": {"schema": {"d": "d" * 400}}}
    assert (
        limits.prompt_estimate({**plain, "response_format": schema}) >= baseline + 100
    )


def test_a_rotated_key_s_successor_spends_from_the_same_budget(gateway, tenant):
    from keys.services import api_key_rotate

    body = {"model": "openai/gpt-4o-mini", "messages": HELLO, "max_tokens": 20}
    worst = limits.prompt_estimate(body) + 20
    # Room for one worst case; what the first request really uses (a few
    # tokens) leaves less than another.
    public_id, key = budget_key(tenant, budget_tokens=worst + 2)
    assert post(gateway.base_url, key, body).status_code == 200
    wait_for_usage(api_key__public_id=public_id)
    with platform_context():
        old = ApiKey.objects.get(public_id=public_id)

    successor, new_key = api_key_rotate(api_key=old, grace_hours=1)

    refused = post(gateway.base_url, new_key, body)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "budget_exceeded"
    assert successor.lineage == public_id


def test_spend_let_through_during_an_outage_is_counted_afterwards(monkeypatch, tenant):
    """A fail-open admission during an outage marks the counters; the next
    admission with Redis seeds them afresh from the usage records."""
    from datetime import timedelta

    from django.utils import timezone

    from proxy.models import UsageRecord

    shared = store()
    if not isinstance(shared, RedisStore):
        pytest.skip("needs Redis")
    public_id, _ = budget_key(tenant, budget_tokens=1000)
    with platform_context():
        api_key = ApiKey.objects.get(public_id=public_id)
    context = KeyContext(
        api_key.pk,
        public_id,
        tenant.organization.pk,
        tenant.project.pk,
        limits={"budget_tokens": 1000},
        fail_open=True,
    )
    counter = budgets.counter_name(tenant.project.pk, public_id, "tok", None)
    shared.set(counter, b"0", 3600)  # a counter from before the outage
    unreachable_redis(monkeypatch)
    assert asyncio.run(budgets.reserve(context, "m", {}, None, 9, 9)) is None
    with tenant_context(tenant.organization):
        UsageRecord.objects.create(  # what the outage request spent
            organization=tenant.organization,
            project=tenant.project,
            api_key=api_key,
            request_id="outage",
            endpoint="chat/completions",
            status_code=200,
            prompt_tokens=900,
            completion_tokens=50,
            created_at=timezone.now() - timedelta(seconds=1),
        )
    monkeypatch.setattr(budgets, "store", lambda: shared)

    with pytest.raises(ProxyError) as refused:
        asyncio.run(budgets.reserve(context, "m", {}, None, 30, 30))

    assert refused.value.code == "budget_exceeded"
    assert int(shared.get(counter)) == 950


def test_a_cut_short_stream_is_billed_no_more_than_its_reservation():
    meter = StreamMeter(cap=3)
    for _ in range(4):
        meter.feed({"choices": [{"delta": {"content": "a" * 40}}]})

    assert meter.over
    assert meter.produced == 40
    assert meter.billable == 3


def test_images_are_estimated_by_the_image_not_by_their_bytes():
    picture = {"type": "image_url", "image_url": {"url": "data:;base64," + "A" * 10**5}}
    body = {"messages": [{"role": "user", "content": [picture, picture]}]}

    estimate = limits.prompt_estimate(body)
    assert 2 * limits.IMAGE_TOKENS < estimate < 2 * limits.IMAGE_TOKENS + 50


def test_files_named_only_by_id_are_reserved_like_an_image():
    part = {"type": "file", "file": {"file_id": "file-abc123"}}
    body = {"messages": [{"role": "user", "content": [part]}]}

    assert limits.prompt_estimate(body) > limits.IMAGE_TOKENS
