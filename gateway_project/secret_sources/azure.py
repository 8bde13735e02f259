"""Secrets from Azure Key Vault, one secret per name under a prefix.

Key Vault secret names allow only letters, digits and hyphens, so ``NAME`` is
read from the secret ``<prefix><NAME with _ replaced by ->``: with the default
prefix, ``MASTER_KEYS`` is ``warden-MASTER-KEYS``. The latest version is read.
"""

from __future__ import annotations

import re
from typing import Any

from gateway_project.env import ConfigError
from gateway_project.secret_sources.base import SourceError

_ALLOWED_PREFIX = re.compile(r"[0-9A-Za-z-]*")


def vault_secret_name(prefix: str, name: str) -> str:
    return prefix + name.replace("_", "-")


class AzureKeyVaultSource:
    def __init__(
        self,
        *,
        vault_url: str,
        credential: Any,
        prefix: str = "warden-",
        **client_options: Any,
    ) -> None:
        """``client_options`` go to ``SecretClient`` as they are (tests use them)."""
        from azure.keyvault.secrets import SecretClient

        if not vault_url:
            raise ConfigError("SECRETS_BACKEND=azure needs SECRETS_AZURE_VAULT_URL")
        if not vault_url.lower().startswith("https://"):
            raise ConfigError("SECRETS_AZURE_VAULT_URL must be an https:// URL")
        if not _ALLOWED_PREFIX.fullmatch(prefix):
            raise ConfigError(
                "SECRETS_AZURE_PREFIX may hold only letters, digits and hyphens"
            )
        self.vault_url, self.prefix = vault_url, prefix
        client_options = {
            "retry_total": 2,
            "connection_timeout": 3,
            "read_timeout": 5,
            **client_options,
        }
        self._client: Any = SecretClient(vault_url, credential, **client_options)

    def fetch(self, name: str) -> str | None:
        from azure.core.exceptions import (
            AzureError,
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
        )

        try:
            secret = self._client.get_secret(vault_secret_name(self.prefix, name))
        except ResourceNotFoundError:
            return None
        except ClientAuthenticationError as exc:
            raise SourceError(type(exc).__name__) from None
        except HttpResponseError as exc:
            code = exc.error.code if exc.error is not None else None
            raise SourceError(code or type(exc).__name__) from None
        except AzureError as exc:
            raise SourceError(type(exc).__name__) from None
        return secret.value

    def describe(self, name: str) -> str:
        secret = vault_secret_name(self.prefix, name)
        return f"Azure Key Vault {self.vault_url} (secret {secret!r})"
