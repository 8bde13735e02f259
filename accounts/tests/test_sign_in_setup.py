"""How sign-in is set up: client addresses, sealed MFA secrets, the passkey
relying party, session limits, email verification and OAuth apps."""

from __future__ import annotations

import re
import time

from django.core import mail
from django.test import RequestFactory

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from accounts.adapters import MFAAdapter, SocialAccountAdapter
from accounts.middleware import SIGNED_IN_AT
from accounts.tests.conftest import PASSWORD
from gateway_project.clientaddr import real_address
from providers.crypto import CryptoError, open_text, seal_text

pytestmark = pytest.mark.django_db


# Client addresses ------------------------------------------------------------


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXIES = []

    assert real_address("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    # The client wrote the first address itself; the proxies appended the rest.
    forwarded = "1.2.3.4, 198.51.100.7, 10.1.1.1"

    assert real_address("10.0.0.2", forwarded) == "198.51.100.7"
    assert real_address("203.0.113.9", forwarded) == "203.0.113.9"
    assert real_address("10.0.0.2", "not-an-address, 10.1.1.1") == "10.1.1.1"


# Sealed MFA secrets and the relying party ---------------------------------------


def test_a_totp_key_is_stored_sealed(alice):
    secret = generate_totp_secret()

    TOTP.activate(alice, secret)

    stored = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP)
    assert secret not in str(stored.data)
    assert MFAAdapter().decrypt(stored.data["secret"]) == secret


def test_a_sealed_value_opens_only_for_its_purpose():
    sealed = seal_text("hello", "one")

    assert open_text(sealed, "one") == "hello"
    with pytest.raises(CryptoError):
        open_text(sealed, "two")


def test_the_passkey_relying_party_comes_from_settings_not_the_host(settings):
    from allauth.core import context

    settings.WEBAUTHN_RP_ID = "dash.example.test"
    request = RequestFactory().get("/", HTTP_HOST="evil.example.test")
    with context.request_context(request):
        entity = MFAAdapter().get_public_key_credential_rp_entity()

    assert entity["id"] == "dash.example.test"


# Sessions -------------------------------------------------------------------------


def test_a_session_ends_at_its_absolute_limit_however_active(client, alice, settings):
    settings.SESSION_MAX_SECONDS = 3600
    client.force_login(alice)
    assert client.get("/accounts/me/").status_code == 200

    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - 3601
    session.save()
    response = client.get("/accounts/me/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_signing_in_stamps_the_session(client, alice):
    response = client.post(
        "/accounts/login/", {"login": alice.username, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert abs(client.session[SIGNED_IN_AT] - time.time()) < 60


# Email sign-up ------------------------------------------------------------------


def test_email_sign_up_is_verified_by_a_code(client):
    address = "newcomer@example.test"

    response = client.post(
        "/accounts/signup/",
        {"email": address, "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    [message] = mail.outbox
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE)
    assert code, message.body
    wrong = client.post(response["Location"], {"code": "AAAAAA"})
    assert "_auth_user_id" not in client.session and wrong.status_code == 200
    client.post(response["Location"], {"code": code.group(1)})
    assert client.session["_auth_user_id"]


def test_an_unverified_address_cannot_sign_in_with_its_password(
    client, django_user_model
):
    django_user_model.objects.create_user("unverified", "u@example.test", PASSWORD)

    client.post("/accounts/login/", {"login": "u@example.test", "password": PASSWORD})

    assert "_auth_user_id" not in client.session


# OAuth apps ---------------------------------------------------------------------


def test_oauth_apps_come_from_settings_never_from_database_rows(settings):
    from allauth.socialaccount.models import SocialApp

    SocialApp.objects.create(provider="github", name="row", client_id="from-a-row")
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "from-settings", "secret": "s"}]}
    }

    apps = SocialAccountAdapter().list_apps(None, provider="github")

    assert [app.client_id for app in apps] == ["from-settings"]
