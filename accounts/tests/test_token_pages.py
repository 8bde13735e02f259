"""The management token page: a token after a fresh check, shown once."""

from __future__ import annotations

import re

import pytest

from accounts.models import ManagementToken
from accounts.tests.conftest import reauthenticated
from accounts.tokens import token_for

pytestmark = pytest.mark.django_db


def test_a_token_is_made_after_a_fresh_check_shown_once_and_revoked(client, alice):
    client.force_login(alice)

    asked = client.post("/accounts/tokens/", {"name": "ci", "days": "30"})
    assert asked["Location"].startswith("/accounts/reauthenticate/")

    reauthenticated(client, alice)
    made = client.post("/accounts/tokens/", {"name": "ci", "days": "30"})
    value = re.search(r'value="(wmt_[^"]+)"', made.content.decode()).group(1)
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    assert token_for(value).user == alice
    assert value not in client.get("/accounts/tokens/").content.decode()

    token = ManagementToken.objects.get(user=alice)
    client.post(f"/accounts/tokens/{token.public_id}/revoke/")
    assert token_for(value) is None


def test_a_bad_form_is_shown_with_its_errors(client, alice):
    reauthenticated(client, alice)

    response = client.post("/accounts/tokens/", {"name": "", "days": "999"})

    assert response.status_code == 400
    assert b"errorlist" in response.content
