"""The API key pages: who sees them, a new key shown once after a fresh
password check, rotation and revocation."""

from __future__ import annotations

import re

import pytest

from accounts.services import project_create
from accounts.tenancy import tenant_context
from accounts.tests.conftest import (
    PASSWORD,
    join,
    organization,
    person,
    reauthenticated,
)
from keys.models import ApiKey
from keys.services import api_key_create
from keys.tokens import check_secret

pytestmark = pytest.mark.django_db

KEY = re.compile(r'value="(wdn_(?:live|test)_[^"]+)"')


@pytest.fixture
def acme():
    org = organization("acme")
    project_create(organization=org, slug="default")
    owner, viewer, outsider = person("olivia"), person("vic"), person("xena")
    join(org, owner, "owner")
    join(org, viewer, "viewer")
    return org, owner, viewer, outsider


def test_who_sees_the_key_list(client, acme):
    org, owner, viewer, outsider = acme
    url = f"/orgs/{org.slug}/keys/"

    client.force_login(owner)
    assert b"New key" in client.get(url).content
    client.force_login(viewer)
    page = client.get(url)
    assert page.status_code == 200 and b"New key" not in page.content
    assert client.get(url + "new/").status_code in (302, 403)
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_new_key_needs_a_fresh_check_and_is_shown_once(client, acme):
    org, owner, _, _ = acme
    client.force_login(owner)  # signed in long ago, as far as the site knows
    url = f"/orgs/{org.slug}/keys/new/"

    asked = client.post(
        url, {"name": "ci", "project": "default", "environment": "live"}
    )
    assert asked.status_code == 302
    assert asked["Location"].startswith("/accounts/reauthenticate/")
    with tenant_context(org):
        assert not ApiKey.objects.for_organization(org).exists()

    # The password check replays the form that asked for it.
    shown = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
    full = KEY.search(shown.content.decode()).group(1)
    assert shown.status_code == 201
    assert "no-store" in shown["Cache-Control"]
    with tenant_context(org):
        api_key = ApiKey.objects.for_organization(org).get()
    assert check_secret(full, api_key.secret_hash)
    assert full not in client.get(f"/orgs/{org.slug}/keys/").content.decode()
    assert full not in str(dict(client.session))


def test_a_form_error_is_shown_on_the_page(client, acme):
    org, owner, _, _ = acme
    reauthenticated(client, owner)

    response = client.post(
        f"/orgs/{org.slug}/keys/new/",
        {"name": "", "project": "nope", "environment": "live"},
    )

    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert b"Select a valid choice" in response.content


def test_rotation_shows_the_successor_once_and_revocation_ends_a_key(client, acme):
    org, owner, viewer, _ = acme
    with tenant_context(org):
        project = org.projects.get(slug="default")
    api_key, _ = api_key_create(project=project, name="svc")
    reauthenticated(client, owner)

    rotated = client.post(
        f"/orgs/{org.slug}/keys/{api_key.public_id}/rotate/", {"grace_hours": "1"}
    )
    assert rotated.status_code == 201
    successor_value = KEY.search(rotated.content.decode()).group(1)
    with tenant_context(org):
        old = ApiKey.objects.get(pk=api_key.pk)
        successor = ApiKey.objects.get(public_id=old.successor)
    assert check_secret(successor_value, successor.secret_hash)

    client.force_login(viewer)
    refused = client.post(f"/orgs/{org.slug}/keys/{successor.public_id}/revoke/")
    assert refused.status_code == 403
    reauthenticated(client, owner)
    client.post(f"/orgs/{org.slug}/keys/{successor.public_id}/revoke/")
    with tenant_context(org):
        assert ApiKey.objects.get(pk=successor.pk).revoked_at is not None
