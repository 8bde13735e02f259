"""Deleting an organisation crypto-shreds it, and its keys stop working at once."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

import httpx
import pytest

from accounts.models import Membership
from accounts.privacy import ORGANIZATION_DELETE_ACTION, PrivacyError
from accounts.privacy import organization_delete as delete
from accounts.services import OrganizationDeleted, project_create
from accounts.tenancy import platform_context, tenant_context
from accounts.tests.conftest import join
from audit.models import AuditEvent
from audit.verify import verify
from keys.models import ApiKey
from keys.services import api_key_create
from providers import crypto
from providers.models import DataKey, ProviderCredential
from providers.services import (
    credential_plaintext,
    data_key_for,
    provider_credential_set,
)
from proxy.models import UsageRecord
from tests.factories import add_credential, make_tenant

PROVIDER_KEY = "sk-deleted-org-provider-key-0123456789"
UPSTREAM = "http://127.0.0.1:9/v1"  # never called
CHAT = {"model": "demo/echo", "messages": [{"role": "user", "content": "hi"}]}


def usage(tenant) -> UsageRecord:
    return UsageRecord(
        organization=tenant.organization,
        project=tenant.project,
        api_key=tenant.api_key,
        request_id="before-deletion",
        endpoint="chat/completions",
        status_code=200,
        created_at=timezone.now(),
    )


@pytest.fixture
def tenant(alice):
    tenant = make_tenant()
    add_credential(tenant.organization, "openai", UPSTREAM, PROVIDER_KEY)
    join(tenant.organization, alice, "owner")
    with tenant_context(tenant.organization):
        usage(tenant).save()
    return tenant


def chat(gateway, key: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(
        gateway.v1 + "/chat/completions", json=CHAT, headers=headers, timeout=10
    )


@pytest.mark.django_db
def test_deletion_revokes_keys_deletes_credentials_and_destroys_the_data_key(tenant):
    org = tenant.organization
    with tenant_context(org):
        [credential] = ProviderCredential.objects.for_organization(org)

    result = delete(org)

    org.refresh_from_db()
    assert org.deleted_at is not None
    assert (result.gateway_keys_revoked, result.provider_keys_deleted) == (1, 1)
    assert result.members_removed == 1
    with tenant_context(org):
        assert ApiKey.objects.get(pk=tenant.api_key.pk).revoked_at is not None
        assert not ProviderCredential.objects.for_organization(org).exists()
        assert not DataKey.objects.for_organization(org).exists()
        assert not Membership.objects.for_organization(org).exists()
        # The row, its projects and its usage stay for retention.
        assert UsageRecord.objects.for_organization(org).count() == 1
    with pytest.raises(crypto.CryptoError):
        credential_plaintext(credential)


@pytest.mark.django_db
def test_the_deletion_is_recorded_before_it_all_happens(tenant):
    org = tenant.organization

    delete(org)

    with tenant_context(org):
        trail = list(AuditEvent.objects.for_organization(org).order_by("seq"))
    actions = [event.action for event in trail]
    deleted = trail[actions.index(ORGANIZATION_DELETE_ACTION)]
    assert json.loads(deleted.before) == {
        "name": org.name,
        "slug": org.slug,
        "plan": "free",
    }
    assert json.loads(deleted.detail)["gateway_keys_revoked"] == 1
    after = actions[actions.index(ORGANIZATION_DELETE_ACTION) + 1 :]
    assert "api_key.revoked" in after and "provider_key.deleted" in after
    assert verify(org.pk).ok


@pytest.mark.django_db
def test_a_deleted_organisation_gets_no_fresh_data_key(tenant):
    org = tenant.organization
    delete(org)

    with pytest.raises(crypto.CryptoError, match="deleted"):
        data_key_for(org.pk)
    with pytest.raises(crypto.CryptoError):
        provider_credential_set(
            organization=org,
            provider="openai",
            secret=PROVIDER_KEY,
            base_url=UPSTREAM,
        )
    with platform_context():
        assert not DataKey.objects.filter(organization=org).exists()


@pytest.mark.django_db
def test_nothing_new_is_made_in_a_deleted_organisation(tenant):
    delete(tenant.organization)

    with pytest.raises(OrganizationDeleted):
        api_key_create(project=tenant.project, name="after deletion")
    with pytest.raises(OrganizationDeleted):
        project_create(organization=tenant.organization, slug="after")
    with platform_context():
        assert not ApiKey.objects.filter(name="after deletion").exists()
    with pytest.raises(CommandError, match="no organisation"):
        call_command(
            "create_api_key", "--org", tenant.organization.slug, "--project",
            "default", "--name", "late", stdout=io.StringIO(),
        )  # fmt: skip


@pytest.mark.django_db
def test_an_organisation_is_deleted_once(tenant):
    delete(tenant.organization)

    with pytest.raises(PrivacyError, match="already deleted"):
        delete(tenant.organization)


@pytest.mark.django_db
def test_the_command_needs_yes_and_shows_no_secret(tenant):
    org = tenant.organization
    out = io.StringIO()
    with pytest.raises(CommandError, match="--yes"):
        call_command("delete_organization", org.slug, stdout=out)
    org.refresh_from_db()
    assert org.deleted_at is None

    call_command("delete_organization", org.slug, "--yes", stdout=out)

    text = out.getvalue()
    assert f"deleted organisation {org.slug}" in text
    assert "data key is destroyed" in text
    assert PROVIDER_KEY[:-4] not in text and tenant.key[:-4] not in text
    org.refresh_from_db()
    assert org.deleted_at is not None


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_or_deleted_organisation(tenant):
    with pytest.raises(CommandError, match="no organisation"):
        call_command("delete_organization", "no-such-org", "--yes")
    delete(tenant.organization)
    with pytest.raises(CommandError, match="already deleted"):
        call_command("delete_organization", tenant.organization.slug, "--yes")


@pytest.mark.django_db(transaction=True)
def test_a_deleted_organisation_s_unused_key_is_refused_by_the_gateway(gateway, alice):
    tenant = make_tenant()
    spare, spare_key = api_key_create(project=tenant.project, name="spare")

    delete(tenant.organization)

    response = chat(gateway, spare_key)
    assert response.status_code == 401
    assert spare_key[:-4] not in response.text


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_deleted_organisation_s_key_in_use_stops_at_once(gateway, alice):
    # The key is cached as verified in Redis; the revocation must reach the
    # gateway process at once, not when the cache entry expires.
    tenant = make_tenant()
    assert chat(gateway, tenant.key).status_code == 200

    delete(tenant.organization)

    response = chat(gateway, tenant.key)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
