"""The admin shows a key's use of its rate limits, read from the shared counters."""

from __future__ import annotations

from django.test import Client

import openai
import pytest

from accounts.tenancy import platform_context
from keys.admin import ApiKeyAdmin
from keys.models import ApiKey
from keys.services import api_key_create
from keys.usage_now import describe, usage_now
from tests.factories import otp_signed_in
from tests.test_key_rate_limits import CHAT, away_from_window_edge

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_admin_shows_use_against_each_limit(
    gateway, tenant, client, django_user_model
):
    away_from_window_edge()
    api_key, full = api_key_create(
        project=tenant.project, name="watched", limits={"rpm": 10, "tpm": 5000}
    )
    sdk = openai.OpenAI(base_url=gateway.v1, api_key=full, max_retries=0)
    for _ in range(3):
        sdk.chat.completions.create(**CHAT)

    uses = {u.name: u for u in usage_now(api_key.public_id, api_key.limits)}
    assert (uses["rpm"].used, uses["rpm"].limit) == (3, 10)
    assert 0 < uses["tpm"].used <= 5000
    assert "requests this minute: 3 of 10" in describe(list(uses.values()))

    staff = django_user_model.objects.create_superuser("root", "r@x.test", "pw-long-1")
    browser = Client()
    otp_signed_in(browser, staff)
    page = browser.get(f"/admin/keys/apikey/{api_key.pk}/change/").content.decode()
    assert "requests this minute: 3 of 10" in page
    assert full not in page


def test_a_key_without_rate_limits_says_so(tenant):
    assert describe(usage_now(tenant.api_key.public_id, {})) == "no rate limits"
    with platform_context():
        row = ApiKey.objects.get(pk=tenant.api_key.pk)
    assert ApiKeyAdmin.use_of_limits(None, row) == "no rate limits"
