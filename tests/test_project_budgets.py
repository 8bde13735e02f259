"""Budgets a project's keys share, on top of each key's own."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.core.management import call_command

import pytest

from accounts.services import project_update
from accounts.tenancy import tenant_context
from audit.models import AuditEvent
from gateway_project.store import RedisStore, store
from keys.limits import LimitError
from proxy import budgets, limits
from tests.factories import make_tenant, wait_for_usage
from tests.test_key_budgets import (
    HELLO,
    SLOW,
    budget_key,
    post,
    stream_all,
    worst_case_usd,
)
from tests.test_keys_api import signed_in

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = {"model": "openai/gpt-4o-mini", "messages": HELLO, "max_tokens": 50}


@pytest.fixture
def priced(tenant):
    tenant.organization.model_prices = {
        "openai/fake-slow-stream": {"input_per_mtok": "1000", "output_per_mtok": "1000"}
    }
    tenant.organization.save(update_fields=["model_prices"])
    return tenant


def test_keys_of_a_project_share_its_budget_under_concurrency(
    gateway, second_gateway, priced
):
    project_update(
        project=priced.project,
        limits={"budget_usd": str(worst_case_usd(SLOW) * Decimal("3.5"))},
    )
    keys = [budget_key(priced)[1] for _ in range(2)]  # no budget of their own
    start = threading.Barrier(20)
    servers = [gateway, second_gateway]

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(
            pool.map(
                lambda n: stream_all(servers[n // 2 % 2].base_url, keys[n % 2], start),
                range(20),
            )
        )

    statuses = sorted(status for status, _ in replies)
    assert statuses == [200] * 3 + [429] * 17
    refusals = [text for status, text in replies if status == 429]
    assert all("This project's spend budget" in text for text in refusals)


def test_a_budget_set_on_a_project_applies_to_keys_already_in_use(gateway, tenant):
    assert post(gateway.base_url, tenant.key, CHAT).status_code == 200

    call_command(
        "set_project_budget",
        org=tenant.organization.slug,
        project=tenant.project.slug,
        budget_tokens=20,
    )

    refused = post(gateway.base_url, tenant.key, CHAT)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "budget_exceeded"
    assert "This project's token budget of 20" in refused.json()["error"]["message"]

    call_command(
        "set_project_budget",
        org=tenant.organization.slug,
        project=tenant.project.slug,
        clear=True,
    )
    assert post(gateway.base_url, tenant.key, CHAT).status_code == 200


def test_a_refusal_by_one_budget_reserves_nothing_on_the_others(gateway, tenant):
    shared = store()
    if not isinstance(shared, RedisStore):
        pytest.skip("needs the gateway's Redis")
    public_id, key = budget_key(tenant, budget_tokens=100_000)
    assert post(gateway.base_url, key, CHAT).status_code == 200
    record = wait_for_usage(api_key__public_id=public_id)
    used = record.prompt_tokens + record.completion_tokens
    project_update(project=tenant.project, limits={"budget_tokens": used + 10})

    assert post(gateway.base_url, key, CHAT).status_code == 429

    key_counter = budgets.counter_name(tenant.project.pk, public_id, "tok", None)
    project_counter = budgets.counter_name(tenant.project.pk, None, "tok", None)
    assert int(shared.get(key_counter) or 0) == used
    assert int(shared.get(project_counter) or 0) == used


def test_project_limits_carry_budgets_only(tenant):
    with pytest.raises(LimitError, match="not a project limit"):
        project_update(project=tenant.project, limits={"rpm": 5})
    with pytest.raises(LimitError, match="budget_usd"):
        project_update(project=tenant.project, limits={"budget_usd": "-1"})
    with tenant_context(tenant.organization):
        tenant.project.refresh_from_db()
    assert tenant.project.limits == {}


def test_owners_set_project_budgets_through_the_api(tenant, django_user_model):
    owner = signed_in(django_user_model, tenant.organization, "owner")
    url = f"/api/v1/orgs/{tenant.organization.slug}/projects/default/"

    changed = owner.patch(
        url,
        {"limits": {"budget_usd": "25", "budget_period": "month"}},
        content_type="application/json",
    )

    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["limits"] == {"budget_usd": "25.000000", "budget_period": "month"}
    assert body["usage"]["budgets"]["budget_usd"]["used"] == "0.000000"
    assert body["usage"]["budgets"]["budget_usd"]["resets_at"]
    with tenant_context(tenant.organization):
        event = AuditEvent.objects.filter(action="project.updated").latest("id")
    assert json.loads(event.after)["limits"]["budget_usd"] == "25.000000"

    listed = owner.get(f"/api/v1/orgs/{tenant.organization.slug}/projects/")
    assert [p["slug"] for p in listed.json()["results"]] == ["default"]


def test_bad_project_budgets_get_field_errors(tenant, django_user_model):
    owner = signed_in(django_user_model, tenant.organization, "owner")
    url = f"/api/v1/orgs/{tenant.organization.slug}/projects/default/"

    for payload, field in [
        ({"limits": {"budget_usd": "lots"}}, "limits"),
        ({"limits": {"max_concurrency": 2}}, "limits"),
        ({"limits": {"budget_period": "day"}}, "limits"),
        ({"name": "renamed"}, "name"),
        ({}, "limits"),
    ]:
        refused = owner.patch(url, payload, content_type="application/json")
        assert refused.status_code == 400, payload
        assert isinstance(refused.json()[field], list)


def test_viewers_see_project_budgets_and_outsiders_nothing(tenant, django_user_model):
    viewer = signed_in(django_user_model, tenant.organization, "viewer")
    url = f"/api/v1/orgs/{tenant.organization.slug}/projects/default/"
    assert viewer.get(url).status_code == 200
    limits = {"limits": {"budget_tokens": 5}}
    assert viewer.patch(url, limits, content_type="application/json").status_code == 403

    outsider = signed_in(django_user_model, make_tenant().organization, "owner")
    assert outsider.get(url).status_code == 404
    assert (
        outsider.patch(url, limits, content_type="application/json").status_code == 404
    )


def test_spend_made_while_a_budget_was_off_counts_when_it_is_set_again(gateway, tenant):
    project_update(project=tenant.project, limits={"budget_tokens": 100_000})
    assert post(gateway.base_url, tenant.key, CHAT).status_code == 200
    project_update(project=tenant.project, limits={})
    for _ in range(3):
        reply = post(gateway.base_url, tenant.key, CHAT)
        wait_for_usage(request_id=reply.headers["x-request-id"])
    spent = sum_tokens(tenant)

    # Room for exactly one more worst case if the uncounted spend were lost.
    worst = limits.prompt_estimate(CHAT) + CHAT["max_tokens"]
    project_update(project=tenant.project, limits={"budget_tokens": spent + worst - 1})

    refused = post(gateway.base_url, tenant.key, CHAT)
    assert refused.status_code == 429
    assert "This project's token budget" in refused.json()["error"]["message"]


def sum_tokens(tenant) -> int:
    from proxy.models import UsageRecord

    with tenant_context(tenant.organization):
        records = UsageRecord.objects.filter(project=tenant.project)
        return sum(r.prompt_tokens + r.completion_tokens for r in records)
