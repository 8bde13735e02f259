"""Password sign-in refuses guessing past a limit, per name and per address."""

from __future__ import annotations

import itertools

from django.core.cache import cache

import pytest

from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

_addresses = itertools.count(1)


@pytest.fixture
def address():
    # A fresh client address per test: counters live in the shared cache.
    value = f"10.99.{next(_addresses)}.{next(_addresses) % 250}"
    yield value
    cache.delete(f"signin-failures:addr:{value}")


def sign_in(client, address, username, password):
    return client.post(
        "/accounts/login/",
        {"login": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_a_name_is_locked_after_its_failures_even_with_the_password(
    client, alice, address, settings
):
    settings.SIGNIN_FAILURES_PER_NAME = 3
    for n in range(3):
        assert sign_in(client, address, alice.username, f"guess-{n}").status_code == 200

    locked = sign_in(client, address, alice.username, PASSWORD)

    assert locked.status_code == 200
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session
    cache.delete(f"signin-failures:name:{alice.username.casefold()}")
    assert sign_in(client, address, alice.username, PASSWORD).status_code == 302


def test_an_address_is_locked_across_names(client, alice, address, settings):
    settings.SIGNIN_FAILURES_PER_ADDRESS = 4
    for n in range(4):
        sign_in(client, address, f"someone-{n}", "wrong")

    locked = sign_in(client, address, alice.username, PASSWORD)

    assert b"Too many failed sign-ins" in locked.content
    elsewhere = sign_in(client, "10.98.0.1", alice.username, PASSWORD)
    assert elsewhere.status_code == 302


def test_look_alike_spellings_share_the_count(client, alice, address, settings):
    settings.SIGNIN_FAILURES_PER_NAME = 2
    sign_in(client, address, alice.username, "wrong-1")
    sign_in(client, address, alice.username.upper(), "wrong-2")
    fullwidth = "".join(
        chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in alice.username
    )

    locked = sign_in(client, address, fullwidth, PASSWORD)

    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session
    cache.delete(f"signin-failures:name:{alice.username.casefold()}")


def test_signing_in_does_not_use_up_the_allowance(client, alice, address, settings):
    settings.SIGNIN_FAILURES_PER_NAME = 2
    for _ in range(4):
        assert sign_in(client, address, alice.username, PASSWORD).status_code == 302
        client.logout()


def test_every_sign_in_form_is_limited_per_address(client, address, settings):
    settings.AUTH_FORM_POSTS_PER_ADDRESS = "3/h"  # an hour: no window ends mid-test
    forms = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
    for path in forms:
        assert client.post(path, {}, REMOTE_ADDR=address).status_code != 429

    refused = client.post("/accounts/login/code/", {}, REMOTE_ADDR=address)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert b"Too many attempts" in refused.content
    assert client.post(forms[0], {}, REMOTE_ADDR="10.97.0.1").status_code != 429


def test_one_account_is_limited_across_addresses(client, alice, settings):
    settings.AUTH_FORM_POSTS_PER_ACCOUNT = "2/h"  # an hour: no window ends mid-test
    for n in range(2):
        sign_in(client, f"10.96.0.{n + 1}", alice.email, "wrong")

    refused = sign_in(client, "10.96.0.9", alice.email.upper(), PASSWORD)

    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
