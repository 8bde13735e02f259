"""The home page leads a signed-in person to what they may see."""

from __future__ import annotations

import pytest

from accounts.tests.conftest import join, organization

pytestmark = pytest.mark.django_db


def test_the_home_page_lists_only_trails_the_person_may_review(client, alice):
    owned, viewed, foreign = (organization(n) for n in ("owned", "viewed", "foreign"))
    join(owned, alice, "owner")
    join(viewed, alice, "viewer")
    client.force_login(alice)

    page = client.get("/").content.decode()

    assert f"/orgs/{owned.slug}/audit/" in page
    assert f"/orgs/{viewed.slug}/audit/" not in page
    assert foreign.slug not in page
    assert "/accounts/me/" in page


def test_the_home_page_signed_out_offers_sign_in(client):
    page = client.get("/").content.decode()
    assert "/accounts/login/" in page and "Audit trails" not in page
