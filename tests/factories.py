"""Builders for the rows tests need: organisation, project, key, credential."""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass

from accounts.models import Organization, Project
from accounts.services import organization_create, project_create
from accounts.tenancy import platform_context
from keys.models import ApiKey
from keys.services import api_key_create
from providers.models import ProviderCredential
from providers.services import provider_credential_set
from proxy.models import UsageRecord

_counter = itertools.count(1)


@dataclass
class Tenant:
    organization: Organization
    project: Project
    api_key: ApiKey
    key: str


def make_tenant(
    *,
    upstream_url: str | None = None,
    provider: str = "openai",
    provider_key: str = "sk-test-provider-key-0000",
) -> Tenant:
    number = next(_counter)
    organization = organization_create(slug=f"org-{number}")
    project = project_create(organization=organization, slug="default")
    api_key, key = api_key_create(project=project, name=f"key {number}")
    if upstream_url is not None:
        add_credential(organization, provider, upstream_url, provider_key)
    return Tenant(organization, project, api_key, key)


def add_credential(
    organization: Organization, provider: str, base_url: str, secret: str
) -> ProviderCredential:
    return provider_credential_set(
        organization=organization, provider=provider, secret=secret, base_url=base_url
    )


def new_request_id() -> str:
    return f"test-{uuid.uuid4().hex}"


def wait_for_usage(**filters) -> UsageRecord:
    """Return the usage record matching ``filters`` once the gateway wrote it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with platform_context():
            record = UsageRecord.objects.filter(**filters).first()
        if record is not None:
            return record
        time.sleep(0.05)
    raise AssertionError(f"no usage record for {filters}")


def otp_signed_in(client, user) -> None:
    """Sign ``user`` in on ``client`` past the admin's second factor, as if
    they had typed a code from their TOTP device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
