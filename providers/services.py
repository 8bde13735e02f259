"""Provider credentials: storing, reading and re-keying them; each change audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

import httpx
from asgiref.sync import async_to_sync

from accounts.models import Organization, Project
from accounts.tenancy import platform_context, tenant_context
from audit.services import record
from providers import crypto
from providers.adapters.anthropic import API_VERSION as ANTHROPIC_VERSION
from providers.catalogue import provider_spec
from providers.http import GuardedTransport
from providers.models import DataKey, ProviderCredential
from providers.netguard import BlockedDestination, check_base_url

logger = logging.getLogger(__name__)


class CredentialError(ValueError):
    """The credential cannot be saved as given."""


def data_key_for(organization_id: int) -> bytes:
    """Return the organisation's data key, creating and wrapping one on first use.

    Raise ``crypto.CryptoError`` for a deleted organisation: its key was
    destroyed on purpose, and a fresh one must not take its place.
    """
    with tenant_context(organization_id):
        row = DataKey.objects.for_organization(organization_id).first()
        if row is None:
            # The lock waits for a deletion in progress to commit or roll back.
            deleted_at = (
                Organization.objects.select_for_update()
                .filter(pk=organization_id)
                .values_list("deleted_at", flat=True)
                .first()
            )
            if deleted_at is not None:
                raise crypto.CryptoError(
                    f"organisation {organization_id} is deleted; its data key is gone"
                )
            key = crypto.new_data_key()
            key_id, wrapped = crypto.wrap(key, organization_id)
            row, created = DataKey.objects.get_or_create(
                organization_id=organization_id,
                defaults={"master_key_id": key_id, "wrapped_key": wrapped},
            )
            if created:
                return key
    return crypto.unwrap(row.master_key_id, bytes(row.wrapped_key), organization_id)


def credential_plaintext(credential: ProviderCredential) -> str:
    """Return the decrypted provider key; call only at the moment it is used."""
    if not credential.ciphertext:
        return ""
    key = data_key_for(credential.organization_id)
    return _decrypt(key, credential)


def provider_credential_set(
    *,
    organization: Organization,
    provider: str,
    secret: str,
    base_url: str = "",
    project: Project | None = None,
) -> ProviderCredential:
    spec = provider_spec(provider)
    if spec is None or spec.adapter == "demo":
        raise CredentialError(f"unknown provider {provider!r}")
    secret = secret.strip()
    if not (secret.isascii() and secret.isprintable()):
        # It is sent in an HTTP header, which carries printable ASCII only.
        raise CredentialError("the key must be printable ASCII")
    if spec.needs_key and not secret:
        raise CredentialError(f"provider {provider!r} needs an API key")
    if base_url:
        base_url = check_base_url(base_url)
    elif not spec.base_url:
        raise CredentialError(f"provider {provider!r} needs a base URL")

    with tenant_context(organization):
        credential = (
            ProviderCredential.objects.for_organization(organization)
            .select_for_update()
            .filter(provider=provider, project=project)
            .first()
        ) or ProviderCredential(
            organization=organization, project=project, provider=provider
        )
        replaced = not credential._state.adding
        before = _credential_fields(credential) if replaced else None
        credential.base_url = base_url
        credential.hint = secret[-4:] if len(secret) >= 12 else ""
        credential.ciphertext = _encrypt(
            data_key_for(organization.pk), credential, secret
        )
        credential.save()
        record(
            "provider_key.replaced" if replaced else "provider_key.added",
            organization=organization,
            target=credential,
            before=before,
            after=_credential_fields(credential),
        )
    logger.info(
        "provider credential saved org=%s provider=%s id=%s",
        organization.pk,
        provider,
        credential.pk,
    )
    return credential


def provider_credential_delete(*, credential: ProviderCredential) -> None:
    with tenant_context(credential.organization_id):
        credential = ProviderCredential.objects.select_for_update().get(
            pk=credential.pk
        )
        record(
            "provider_key.deleted",
            organization=credential.organization_id,
            target=credential,
            before=_credential_fields(credential),
        )
        credential.delete()
    logger.info(
        "provider credential deleted org=%s provider=%s",
        credential.organization_id,
        credential.provider,
    )


def _credential_fields(credential: ProviderCredential) -> dict:
    """What the audit trail keeps of a credential: never more than its hint."""
    return {
        "provider": credential.provider,
        "project_id": credential.project_id,
        "base_url": credential.base_url,
        "hint": credential.hint,
    }


def master_key_rotate() -> int:
    """Rewrap every data key under the active master key; return how many changed.

    Under Transit that includes data keys wrapped by an older version of the
    active Transit key.
    """
    active_id = crypto.active_key_id()
    changed = 0
    # Every organisation's data key, so this crosses tenants.
    with platform_context():
        rows = DataKey.objects.all()
        if not active_id.startswith(crypto.TRANSIT_KEY_PREFIX):
            rows = rows.exclude(master_key_id=active_id)
        stale = list(rows.values_list("pk", flat=True))
    for pk in stale:
        with platform_context():
            row = DataKey.objects.select_for_update().get(pk=pk)
            previous_id = row.master_key_id
            rewrapped = crypto.rewrap(
                previous_id, bytes(row.wrapped_key), row.organization_id
            )
            if rewrapped is None:
                continue
            row.master_key_id, row.wrapped_key = rewrapped
            row.rotated_at = timezone.now()
            row.save(update_fields=["master_key_id", "wrapped_key", "rotated_at"])
            record(
                "data_key.rewrapped",
                organization=row.organization_id,
                target=row,
                before={"master_key_id": previous_id},
                after={"master_key_id": row.master_key_id},
            )
            changed += 1
    record(
        "master_key.rotated",
        organization=None,
        detail={"master_key_id": active_id, "organizations": changed},
    )
    logger.info("master key rotation rewrapped %d data keys", changed)
    return changed


def organization_key_rotate(*, organization: Organization) -> int:
    """Re-encrypt the organisation's credentials under a fresh data key."""
    with tenant_context(organization):
        row = (
            DataKey.objects.select_for_update()
            .filter(organization=organization)
            .first()
        )
        old_key = data_key_for(organization.pk)
        new_key = crypto.new_data_key()
        credentials = list(
            ProviderCredential.objects.for_organization(
                organization
            ).select_for_update()
        )
        for credential in credentials:
            secret = _decrypt(old_key, credential)
            credential.ciphertext = _encrypt(new_key, credential, secret)
            credential.save(update_fields=["ciphertext", "updated_at"])
        # Stored request text is sealed with the same data key.
        from proxy.content import reencrypt  # the proxy builds on this app

        texts = reencrypt(organization.pk, old_key, new_key)
        key_id, wrapped = crypto.wrap(new_key, organization.pk)
        row = row or DataKey.objects.get(organization=organization)
        row.master_key_id, row.wrapped_key = key_id, wrapped
        row.rotated_at = timezone.now()
        row.save(update_fields=["master_key_id", "wrapped_key", "rotated_at"])
        record(
            "data_key.rotated",
            organization=organization,
            target=row,
            detail={
                "provider_keys_reencrypted": len(credentials),
                "request_texts_reencrypted": texts,
            },
        )
    logger.info(
        "data key rotated org=%s provider keys=%d", organization.pk, len(credentials)
    )
    return len(credentials)


def _aad(credential: ProviderCredential) -> bytes:
    return crypto.credential_aad(
        credential.organization_id, credential.pk, ProviderCredential.PURPOSE
    )


def _encrypt(key: bytes, credential: ProviderCredential, secret: str) -> bytes:
    if not secret:
        return b""
    return crypto.encrypt(key, secret.encode(), _aad(credential))


def _decrypt(key: bytes, credential: ProviderCredential) -> str:
    if not credential.ciphertext:
        return ""
    return crypto.decrypt(key, bytes(credential.ciphertext), _aad(credential)).decode()


def organization_data_key_destroy(*, organization: Organization) -> bool:
    """Delete the organisation's data key; return False if it had none.

    Crypto-shredding: every provider key and request text encrypted for the
    organisation becomes unrecoverable from the live database (a backup still
    holds the wrapped key until it expires). Only for deleting the
    organisation, marked deleted in the same transaction, or ``data_key_for``
    would create a new key on next use.
    """
    with tenant_context(organization):
        deleted, _ = DataKey.objects.for_organization(organization).delete()
    logger.info("data key destroyed org=%s", organization.pk)
    return bool(deleted)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def provider_credential_check(credential: ProviderCredential) -> CheckResult:
    """Ask the provider to list its models with the stored key.

    The answer is summed up in words; nothing of the provider's reply (which
    might repeat the key) is passed on. The call goes through the same guard
    against private addresses as every proxied request.
    """
    spec = provider_spec(credential.provider)
    if spec is None:
        return CheckResult(False, "This provider is no longer in the catalogue.")
    base = (credential.base_url or spec.base_url).rstrip("/")
    secret = credential_plaintext(credential)
    if spec.adapter == "anthropic":
        url = f"{base}/v1/models"
        headers = {"x-api-key": secret, "anthropic-version": ANTHROPIC_VERSION}
    else:
        url = f"{base}/models"
        headers = (
            {"authorization": f"Bearer {secret}"}
            if spec.auth_header == "authorization"
            else {spec.auth_header: secret}
        )
    status = async_to_sync(_status_of)(url, headers)
    result = _describe(status)
    with tenant_context(credential.organization_id):
        record(
            "provider_key.tested",
            organization=credential.organization_id,
            target=credential,
            after={"ok": result.ok, "status": status},
        )
    return result


async def _status_of(url: str, headers: dict[str, str]) -> int:
    """The HTTP status of a GET, or 0 when nothing answered."""
    limits = httpx.Limits(max_connections=1)
    timeout = httpx.Timeout(10.0, connect=settings.UPSTREAM_CONNECT_TIMEOUT)
    async with httpx.AsyncClient(
        transport=GuardedTransport(limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    ) as http:
        try:
            response = await http.get(url, headers=headers)
        except BlockedDestination:
            return -1
        except httpx.HTTPError:
            return 0
        return response.status_code


def _describe(status: int) -> CheckResult:
    if status == -1:
        return CheckResult(
            False, "The provider's address is not a permitted destination."
        )
    if status == 0:
        return CheckResult(False, "The provider could not be reached.")
    if 200 <= status < 300:
        return CheckResult(True, "The provider accepted the key.")
    if status in (401, 403):
        return CheckResult(False, f"The provider refused the key ({status}).")
    return CheckResult(False, f"The provider answered {status}.")
