"""Rate limits on the management API and on invitation links, per client
address and per account, counted in the shared cache."""

from __future__ import annotations

import itertools

from django.test import Client

import pytest

from accounts.tests.conftest import join, organization, person
from accounts.throttles import window_seconds
from accounts.tokens import token_create

pytestmark = pytest.mark.django_db

_addresses = itertools.count(1)


@pytest.fixture
def address() -> str:
    """An address no other test used, so its count starts at nought."""
    number = next(_addresses)
    return f"10.95.{number // 250}.{number % 250 + 1}"


def bearer(user, address: str) -> Client:
    _, value = token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {value}", REMOTE_ADDR=address)


def test_one_address_is_limited_wrong_tokens_included(settings, address):
    settings.API_REQUESTS_PER_ADDRESS = "3/h"  # an hour: no window ends mid-test
    wrong = Client(HTTP_AUTHORIZATION="Bearer wmt_0000000000000000_nope")
    for _ in range(3):
        assert wrong.get("/api/v1/me", REMOTE_ADDR=address).status_code == 401

    refused = wrong.get("/api/v1/orgs/", REMOTE_ADDR=address)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert refused.json() == {
        "detail": "Request was throttled. Expected available in 3600 seconds."
    }
    assert wrong.get("/api/v1/me", REMOTE_ADDR="10.94.0.1").status_code == 401


def test_one_account_is_limited_across_addresses_and_tokens(settings):
    settings.API_REQUESTS_PER_ACCOUNT = "2/h"
    olivia = person("olivia")
    for number in range(2):
        client = bearer(olivia, f"10.93.0.{number + 1}")
        assert client.get("/api/v1/me").status_code == 200

    refused = bearer(olivia, "10.93.0.9").get("/api/v1/me")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "throttled" in refused.json()["detail"]
    tom = person("tom")
    assert bearer(tom, "10.93.0.9").get("/api/v1/me").status_code == 200


def test_invitation_links_are_limited_per_address(settings, address):
    settings.AUTH_FORM_POSTS_PER_ADDRESS = "2/h"
    org = organization("acme")
    join(org, person("olivia"), "owner")
    link = f"/invitations/{org.slug}/not-a-real-token/"
    client = Client()
    for _ in range(2):
        assert client.get(link, REMOTE_ADDR=address).status_code != 429

    assert client.get(link, REMOTE_ADDR=address).status_code == 429


@pytest.mark.parametrize(
    "rate, seconds", [("60/m", 60), ("5/10m", 600), ("1/s", 1), ("100/2h", 7200)]
)
def test_window_of_a_rate(rate, seconds):
    assert window_seconds(rate) == seconds
