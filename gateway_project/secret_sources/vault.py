"""Secrets from a HashiCorp Vault or OpenBao KV version 2 engine.

Each secret is one KV entry ``<mount>/<prefix>/<NAME>`` whose field (by
default ``value``) holds the secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway_project.env import ConfigError
from gateway_project.secret_sources.base import SourceError


class VaultSource:
    def __init__(
        self,
        *,
        address: str,
        token: Callable[[], str | None],
        mount: str = "secret",
        prefix: str = "warden",
        field: str = "value",
        namespace: str = "",
        ca_file: str = "",
    ) -> None:
        import hvac

        if not address:
            raise ConfigError("SECRETS_BACKEND=vault needs VAULT_ADDR")
        self.mount, self.prefix, self.field = mount, prefix.strip("/"), field
        self._token = token
        self._client: Any = hvac.Client(
            url=address,
            namespace=namespace or None,
            verify=ca_file or True,
            timeout=5,
        )
        self._client.token = self._read_token()

    def fetch(self, name: str) -> str | None:
        import hvac.exceptions
        import requests

        # Read again each time: an agent that renews the token rewrites the
        # file named by VAULT_TOKEN_FILE.
        self._client.token = self._read_token()
        try:
            answer = self._client.secrets.kv.v2.read_secret_version(
                path=self._path(name),
                mount_point=self.mount,
                raise_on_deleted_version=True,
            )
        except hvac.exceptions.InvalidPath:
            return None
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise SourceError(type(exc).__name__) from None
        value = answer["data"]["data"].get(self.field)
        if value is not None and not isinstance(value, str):
            raise SourceError(f"field {self.field!r} is not text")
        return value

    def describe(self, name: str) -> str:
        return f"Vault KV {self.mount}/{self._path(name)} field {self.field!r}"

    def _path(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _read_token(self) -> str:
        token = self._token()
        if not token:
            raise ConfigError(
                "SECRETS_BACKEND=vault needs VAULT_TOKEN or VAULT_TOKEN_FILE"
            )
        return token
