"""The management API shows each key's limits and its use of them, never the key."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

import openai
import pytest

from accounts.services import membership_add
from keys.services import api_key_create
from tests.factories import make_tenant, wait_for_usage
from tests.test_key_rate_limits import CHAT, away_from_window_edge

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def signed_in(django_user_model, organization, role: str) -> Client:
    user = django_user_model.objects.create_user(f"{role}-{organization.slug}")
    membership_add(organization=organization, user=user, role=role)
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_member_sees_use_against_each_limit(gateway, tenant, django_user_model):
    away_from_window_edge()
    api_key, full = api_key_create(
        project=tenant.project,
        name="metered",
        limits={"rpm": 5, "budget_usd": "1", "budget_period": "day"},
    )
    sdk = openai.OpenAI(base_url=gateway.v1, api_key=full, max_retries=0)
    replies = [sdk.chat.completions.with_raw_response.create(**CHAT) for _ in range(2)]
    for reply in replies:
        wait_for_usage(request_id=reply.headers["x-request-id"])

    viewer = signed_in(django_user_model, tenant.organization, "viewer")
    base = f"/api/v1/orgs/{tenant.organization.slug}/keys/"
    listed = viewer.get(base).json()["results"]
    assert api_key.public_id in {k["id"] for k in listed}
    detail = viewer.get(f"{base}{api_key.public_id}/")
    body = detail.json()
    assert body["usage"]["rate_limits"]["rpm"] == {"used": 2, "limit": 5}
    spent = body["usage"]["budgets"]["budget_usd"]
    assert Decimal(spent["used"]) > 0 and spent["limit"] == "1.000000"
    assert spent["period"] == "day" and spent["resets_at"]
    assert full not in detail.content.decode()
    assert api_key.secret_hash not in detail.content.decode()


def test_another_organisation_s_keys_stay_out_of_sight(tenant, django_user_model):
    other = make_tenant()
    outsider = signed_in(django_user_model, other.organization, "owner")
    slug = tenant.organization.slug
    assert outsider.get(f"/api/v1/orgs/{slug}/keys/").status_code == 404
    own = f"/api/v1/orgs/{other.organization.slug}/keys/"
    assert outsider.get(f"{own}{tenant.api_key.public_id}/").status_code == 404
    assert Client().get(own).status_code == 401


def test_owners_change_a_key_s_limits_and_it_applies_at_once(
    gateway, tenant, django_user_model
):
    owner = signed_in(django_user_model, tenant.organization, "owner")
    url = f"/api/v1/orgs/{tenant.organization.slug}/keys/{tenant.api_key.public_id}/"
    sdk = openai.OpenAI(base_url=gateway.v1, api_key=tenant.key, max_retries=0)
    sdk.chat.completions.create(**CHAT)  # the key is cached by the gateway

    changed = owner.patch(
        url, {"limits": {"allowed_models": ["demo/*"]}}, content_type="application/json"
    )

    assert changed.status_code == 200
    assert changed.json()["limits"] == {"allowed_models": ["demo/*"]}
    with pytest.raises(openai.PermissionDeniedError):
        sdk.chat.completions.create(**CHAT)
    bad = owner.patch(url, {"limits": {"rpm": 0}}, content_type="application/json")
    assert bad.status_code == 400 and "rpm" in bad.json()["limits"][0]
    viewer = signed_in(django_user_model, tenant.organization, "viewer")
    assert (
        viewer.patch(url, {"limits": {}}, content_type="application/json").status_code
        == 403
    )


def test_the_limits_command_replaces_a_key_s_limits(tenant):
    from django.core.management import call_command

    from accounts.tenancy import tenant_context

    def limits() -> dict:
        with tenant_context(tenant.organization):
            tenant.api_key.refresh_from_db()
        return tenant.api_key.limits

    call_command("set_api_key_limits", tenant.api_key.public_id, "--rpm", "7")
    assert limits() == {"rpm": 7}
    call_command("set_api_key_limits", tenant.api_key.public_id)
    assert limits() == {}
