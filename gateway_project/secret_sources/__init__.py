"""Where the deployment's secrets come from, chosen by ``SECRETS_BACKEND``.

``env`` (the default) reads ``NAME`` or the file named by ``NAME_FILE``;
``aws`` reads AWS Secrets Manager; ``vault`` reads a HashiCorp Vault or
OpenBao KV version 2 engine; ``gcp`` reads Google Secret Manager; ``azure``
reads Azure Key Vault. Every read goes through one cache, refreshed
after ``SECRETS_CACHE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

from gateway_project import env
from gateway_project.env import ConfigError
from gateway_project.secret_sources.base import Source, SourceError
from gateway_project.secret_sources.cache import SecretStore

__all__ = ["SecretStore", "Source", "SourceError", "get", "lookup", "store"]

_store: SecretStore | None = None


def get(name: str) -> str:
    """Return the secret ``name``; raise ``ConfigError`` if it is missing."""
    return store().get(name)


def lookup(name: str) -> str | None:
    """Return the secret ``name``, or None if the configured source lacks it."""
    return store().lookup(name)


def store() -> SecretStore:
    """Return the process's secret store, built from the environment once."""
    global _store
    if _store is None:
        ttl = env.number("SECRETS_CACHE_SECONDS", 60.0, minimum=0.0)
        _store = SecretStore(configured_source(), ttl=ttl)
    return _store


def configured_source() -> Source:
    backend = env.string("SECRETS_BACKEND", "env").strip().lower()
    if backend == "env":
        from gateway_project.secret_sources.environment import EnvironmentSource

        return EnvironmentSource()
    if backend == "aws":
        from gateway_project.secret_sources.aws import AwsSecretsManagerSource

        return AwsSecretsManagerSource(
            prefix=env.string("SECRETS_AWS_PREFIX", "warden/"),
            region=env.string("SECRETS_AWS_REGION"),
            endpoint_url=env.string("SECRETS_AWS_ENDPOINT_URL"),
        )
    if backend == "vault":
        from gateway_project.secret_sources.vault import VaultSource

        return VaultSource(
            address=env.string("VAULT_ADDR"),
            token=lambda: env.raw("VAULT_TOKEN"),
            mount=env.string("VAULT_KV_MOUNT", "secret"),
            prefix=env.string("VAULT_PATH_PREFIX", "warden"),
            field=env.string("VAULT_FIELD", "value"),
            namespace=env.string("VAULT_NAMESPACE"),
            ca_file=env.string("VAULT_CACERT"),
        )
    if backend == "gcp":
        from gateway_project.secret_sources.gcp import GoogleSecretManagerSource

        return GoogleSecretManagerSource(
            project=env.string("SECRETS_GCP_PROJECT"),
            prefix=env.string("SECRETS_GCP_PREFIX", "warden-"),
            endpoint=env.string("SECRETS_GCP_ENDPOINT"),
        )
    if backend == "azure":
        from gateway_project.secret_sources.azure import AzureKeyVaultSource

        return AzureKeyVaultSource(
            vault_url=env.string("SECRETS_AZURE_VAULT_URL"),
            prefix=env.string("SECRETS_AZURE_PREFIX", "warden-"),
            credential=azure_credential(),
        )
    raise ConfigError(
        f"SECRETS_BACKEND must be env, aws, vault, gcp or azure, not {backend!r}"
    )


def azure_credential() -> Any:
    """Return the service principal's credential if one is set, else the default.

    A service principal (``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` and
    ``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_SECRET_FILE``) asks for tokens
    at ``AZURE_AUTHORITY_HOST`` alone. ``DefaultAzureCredential`` tries
    managed identity among others, which probes the instance metadata address.
    """
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    tenant, client = env.string("AZURE_TENANT_ID"), env.string("AZURE_CLIENT_ID")
    secret = env.raw("AZURE_CLIENT_SECRET")
    if not (tenant and client and secret):
        return DefaultAzureCredential()
    options: dict[str, Any] = {}
    if authority := env.string("AZURE_AUTHORITY_HOST"):
        # A private authority is trusted as given: no discovery request to
        # Microsoft's public cloud.
        options = {"authority": authority, "disable_instance_discovery": True}
    return ClientSecretCredential(tenant, client, secret, **options)
