"""A person who keeps a password can add an authenticator app (TOTP) with
recovery codes; sign-in then asks for a code."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return f"{hotp_value(secret, counter):06d}"


def test_sign_in_asks_for_the_authenticator_code(client, alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    RecoveryCodes.activate(alice)

    first = client.post(
        "/accounts/login/", {"login": alice.username, "password": PASSWORD}
    )
    assert first.status_code == 302 and "2fa/authenticate" in first["Location"]
    assert "_auth_user_id" not in client.session

    wrong = client.post(first["Location"], {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    client.post(first["Location"], {"code": current_code(secret)})
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_a_recovery_code_works_once(client, alice):
    TOTP.activate(alice, generate_totp_secret())
    codes = RecoveryCodes.activate(alice).get_unused_codes()

    def sign_in_with(code: str) -> bool:
        client.logout()
        step = client.post(
            "/accounts/login/", {"login": alice.username, "password": PASSWORD}
        )
        client.post(step["Location"], {"code": code})
        return "_auth_user_id" in client.session

    assert sign_in_with(codes[0])
    assert not sign_in_with(codes[0])
    stored = Authenticator.objects.get(
        user=alice, type=Authenticator.Type.RECOVERY_CODES
    )
    assert codes[1] not in str(stored.data)
