"""The usage page: totals per day, project, key and model, and who sees it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

import pytest

from accounts.services import project_create
from accounts.tenancy import tenant_context
from accounts.tests.conftest import join, organization, person
from keys.services import api_key_create
from proxy.models import UsageRecord
from proxy.reports import usage_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    org = organization("acme")
    web = project_create(organization=org, slug="web")
    batch = project_create(organization=org, slug="batch")
    key, _ = api_key_create(project=web, name="web-key")
    viewer, outsider = person("vic"), person("xena")
    join(org, viewer, "viewer")
    now = timezone.now()
    old = now - timedelta(days=20)
    rows = [
        (web, key, "openai/gpt-4o-mini", 200, 10, 5, "0.001", now),
        (web, key, "openai/gpt-4o-mini", 429, 0, 0, None, now),
        (batch, None, "anthropic/claude-haiku-4-5", 200, 100, 50, "0.01", now),
        (batch, None, "anthropic/claude-haiku-4-5", 200, 1, 1, "0.5", old),
    ]  # fmt: skip
    with tenant_context(org):
        for project, api_key, model, status, prompt, completion, cost, at in rows:
            UsageRecord.objects.create(
                organization=org, project=project, api_key=api_key,
                request_id=uuid.uuid4().hex, endpoint="chat", model=model,
                status_code=status, prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=Decimal(cost) if cost else None, created_at=at,
            )  # fmt: skip
    return org, viewer, outsider


def test_the_report_adds_up_by_day_project_key_and_model(acme):
    org, _, _ = acme

    week = usage_report(org, days=7)
    month = usage_report(org, days=30, project="batch")

    assert (week.total.requests, week.total.tokens, week.total.errors) == (3, 165, 1)
    assert week.total.cost == Decimal("0.011")
    assert len(week.days) == 8 and week.days[-1][1].requests == 3
    assert dict(week.by_project)["web"].requests == 2
    assert dict(week.by_key)["web-key"].errors == 1
    assert dict(week.by_model)["anthropic/claude-haiku-4-5"].tokens == 150
    assert (month.total.requests, month.total.cost) == (2, Decimal("0.51"))


def test_members_see_the_page_and_outsiders_do_not(client, acme):
    org, viewer, outsider = acme
    client.force_login(viewer)

    page = client.get(f"/orgs/{org.slug}/usage/", {"days": "30"})
    bad = client.get(f"/orgs/{org.slug}/usage/", {"days": "5"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "<strong>4</strong> requests" in text and "<svg" in text
    assert "anthropic/claude-haiku-4-5" in text
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()
    client.force_login(outsider)
    assert client.get(f"/orgs/{org.slug}/usage/").status_code == 404
