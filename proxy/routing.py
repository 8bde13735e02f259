"""Which provider, model and credential serve a request.

An organisation's credentials are cached per worker for ``ROUTE_CACHE_SECONDS``
as ciphertext with the wrapped data key; the provider key is decrypted only
when a request is about to be sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q

from asgiref.sync import sync_to_async

from accounts.models import Organization
from accounts.tenancy import tenant_context
from providers import crypto
from providers.adapters import ADAPTERS, Adapter, Target
from providers.catalogue import catalogue, model_spec, provider_spec, split_model_name
from providers.models import DataKey, ProviderCredential
from proxy.errors import ProxyError


@dataclass(frozen=True)
class StoredCredential:
    id: str
    organization_id: int
    provider: str
    base_url: str
    ciphertext: bytes


@dataclass(frozen=True)
class OrgCredentials:
    by_provider: dict[str, StoredCredential]
    master_key_id: str
    wrapped_key: bytes
    model_prices: dict = field(default_factory=dict)


_cache: dict[tuple[int, int], tuple[float, OrgCredentials]] = {}


async def credentials_for(organization_id: int, project_id: int) -> OrgCredentials:
    cache_key = (organization_id, project_id)
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    loaded = await sync_to_async(_load)(organization_id, project_id)
    _cache[cache_key] = (time.monotonic() + settings.ROUTE_CACHE_SECONDS, loaded)
    return loaded


def forget_routes() -> None:
    _cache.clear()


def _load(organization_id: int, project_id: int) -> OrgCredentials:
    close_old_connections()
    # One statement reads the credentials and the wrapped data key together, so
    # a concurrent rotate_org_key cannot pair old ciphertexts with a new key.
    with tenant_context(organization_id):
        rows = list(
            ProviderCredential.objects.for_organization(organization_id)
            .filter(Q(project_id=project_id) | Q(project__isnull=True))
            .select_related("organization__data_key")
            .order_by("project_id")  # NULLs sort after the project's own rows
        )
    prices = (
        Organization.objects.filter(pk=organization_id)
        .values_list("model_prices", flat=True)
        .first()
    )
    by_provider: dict[str, StoredCredential] = {}
    data_key: DataKey | None = None
    for row in rows:
        data_key = getattr(row.organization, "data_key", None)
        if row.provider in by_provider and row.project_id is None:
            continue
        by_provider[row.provider] = StoredCredential(
            id=str(row.pk),
            organization_id=organization_id,
            provider=row.provider,
            base_url=row.base_url,
            ciphertext=bytes(row.ciphertext),
        )
    return OrgCredentials(
        by_provider=by_provider,
        master_key_id=data_key.master_key_id if data_key else "",
        wrapped_key=bytes(data_key.wrapped_key) if data_key else b"",
        model_prices=prices or {},
    )


def reachable_providers(credentials: OrgCredentials) -> list[str]:
    return ["demo", *sorted(credentials.by_provider)]


def resolve(name: str, credentials: OrgCredentials) -> tuple[Adapter, Target]:
    split = split_model_name(name)
    if split is None:
        raise _unknown_model(name)
    provider, model = split
    spec = provider_spec(provider)
    assert spec is not None
    if spec.adapter == "demo":
        target = Target(
            provider=provider,
            model=model,
            base_url="",
            api_key="",
            spec=model_spec(provider, model),
        )
        return ADAPTERS["demo"], target
    stored = credentials.by_provider.get(provider)
    if stored is None:
        raise _unknown_model(name)
    target = Target(
        provider=provider,
        model=model,
        base_url=stored.base_url or spec.base_url,
        api_key=_decrypt(stored, credentials),
        auth_header=spec.auth_header,
        spec=model_spec(provider, model),
    )
    return ADAPTERS[spec.adapter], target


def visible_models(credentials: OrgCredentials) -> list[str]:
    providers = set(reachable_providers(credentials))
    return [
        model_id
        for model_id in catalogue().models
        if model_id.split("/", 1)[0] in providers
    ]


def _decrypt(stored: StoredCredential, credentials: OrgCredentials) -> str:
    if not stored.ciphertext:
        return ""
    data_key = crypto.unwrap(
        credentials.master_key_id, credentials.wrapped_key, stored.organization_id
    )
    aad = crypto.credential_aad(
        stored.organization_id, stored.id, ProviderCredential.PURPOSE
    )
    return crypto.decrypt(data_key, stored.ciphertext, aad).decode()


def _unknown_model(name: str) -> ProxyError:
    return ProxyError(
        404,
        f"The model '{name}' does not exist or this key cannot use it.",
        code="model_not_found",
        param="model",
    )
