"""The provider key pages: stored keys shown only by hint, added after a
fresh check, tested against a real (fake) provider, and who may do what."""

from __future__ import annotations

import pytest

from accounts.services import project_create
from accounts.tenancy import tenant_context
from accounts.tests.conftest import join, organization, person, reauthenticated
from providers.models import ProviderCredential
from providers.services import credential_plaintext, provider_credential_set

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sk-test-provider-secret-1234567890"


@pytest.fixture
def acme():
    org = organization("acme")
    project_create(organization=org, slug="default")
    owner, member, outsider = person("olivia"), person("max"), person("xena")
    join(org, owner, "owner")
    join(org, member, "member")
    return org, owner, member, outsider


def test_a_key_is_added_after_a_fresh_check_and_shown_only_by_its_hint(
    client, acme, settings
):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    org, owner, _, _ = acme
    client.force_login(owner)
    url = f"/orgs/{org.slug}/providers/set/"
    form = {"provider": "openai", "secret": SECRET, "base_url": "", "project": ""}

    asked = client.post(url, form)
    assert asked["Location"].startswith("/accounts/reauthenticate/")

    reauthenticated(client, owner)
    stored = client.post(url, form, follow=True)
    page = stored.content.decode()
    assert SECRET not in page and "…7890" in page
    with tenant_context(org):
        credential = ProviderCredential.objects.for_organization(org).get()
    assert credential_plaintext(credential) == SECRET
    assert SECRET.encode() not in bytes(credential.ciphertext)
    again = client.get(url).content.decode()
    assert SECRET not in again


def test_a_bad_key_or_address_is_a_form_error(client, acme):
    org, owner, _, _ = acme
    reauthenticated(client, owner)

    bad = client.post(
        f"/orgs/{org.slug}/providers/set/",
        {"provider": "openai", "secret": "naïve key", "base_url": "", "project": ""},
    )
    private = client.post(
        f"/orgs/{org.slug}/providers/set/",
        {"provider": "custom", "secret": SECRET,
         "base_url": "http://169.254.169.254/v1", "project": ""},
    )  # fmt: skip

    assert bad.status_code == 400 and b"printable ASCII" in bad.content
    assert private.status_code == 400 and b"errorlist" in private.content
    assert SECRET.encode() not in private.content


def test_testing_the_connection_asks_the_provider(
    client, acme, fake_upstream, settings
):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    org, owner, _, _ = acme
    good = provider_credential_set(
        organization=org,
        provider="custom",
        secret=SECRET,
        base_url=fake_upstream.base_url + "/v1",
    )
    client.force_login(owner)

    answer = client.post(f"/orgs/{org.slug}/providers/{good.pk}/test/", follow=True)
    assert b"accepted the key" in answer.content
    sent = fake_upstream.requests[-1]
    assert sent.path.endswith("/models")

    gone = provider_credential_set(
        organization=org,
        provider="custom",
        secret=SECRET,
        base_url="http://127.0.0.1:9/v1",
    )
    answer = client.post(f"/orgs/{org.slug}/providers/{gone.pk}/test/", follow=True)
    assert b"could not be reached" in answer.content
    assert SECRET.encode() not in answer.content


def test_who_may_see_and_change_provider_keys(client, acme):
    org, _, member, outsider = acme
    client.force_login(member)

    page = client.get(f"/orgs/{org.slug}/providers/")
    assert page.status_code == 200 and b"Add or replace" not in page.content
    assert client.get(f"/orgs/{org.slug}/providers/set/").status_code in (302, 403)
    reauthenticated(client, member)
    assert client.get(f"/orgs/{org.slug}/providers/set/").status_code == 403
    client.force_login(outsider)
    assert client.get(f"/orgs/{org.slug}/providers/").status_code == 404
