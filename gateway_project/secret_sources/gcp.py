"""Secrets from Google Secret Manager, one secret per name under a prefix.

``NAME`` is read from ``projects/<project>/secrets/<prefix><NAME>/versions/latest``.
Credentials are Application Default Credentials unless given explicitly.
"""

from __future__ import annotations

from typing import Any

from gateway_project.env import ConfigError
from gateway_project.secret_sources.base import SourceError


class GoogleSecretManagerSource:
    def __init__(
        self,
        *,
        project: str,
        prefix: str = "warden-",
        endpoint: str = "",
        credentials: Any = None,
    ) -> None:
        import google.auth.exceptions
        from google.api_core.client_options import ClientOptions
        from google.cloud import secretmanager

        if not project:
            raise ConfigError("SECRETS_BACKEND=gcp needs SECRETS_GCP_PROJECT")
        self.project, self.prefix = project, prefix
        options = ClientOptions(api_endpoint=endpoint) if endpoint else None
        try:
            # REST rather than gRPC: one HTTP client to reason about, and an
            # endpoint override may name its scheme (http:// for a local fake).
            self._client: Any = secretmanager.SecretManagerServiceClient(
                credentials=credentials, client_options=options, transport="rest"
            )
        except google.auth.exceptions.DefaultCredentialsError:
            raise ConfigError(
                "SECRETS_BACKEND=gcp found no Google credentials (set "
                "GOOGLE_APPLICATION_CREDENTIALS or run with a service account)"
            ) from None

    def fetch(self, name: str) -> str | None:
        import google.auth.exceptions
        import requests
        from google.api_core import exceptions, retry

        transient = retry.if_exception_type(
            exceptions.ServiceUnavailable, exceptions.TooManyRequests
        )
        try:
            answer = self._client.access_secret_version(
                name=self._version(name),
                retry=retry.Retry(predicate=transient, timeout=8),
                timeout=5,
            )
        except exceptions.NotFound:
            return None
        except (
            exceptions.GoogleAPIError,
            google.auth.exceptions.GoogleAuthError,
            requests.RequestException,
        ) as exc:
            raise SourceError(type(exc).__name__) from None
        try:
            return answer.payload.data.decode()
        except UnicodeDecodeError:
            raise SourceError("the secret is binary, not UTF-8 text") from None

    def describe(self, name: str) -> str:
        return f"Google Secret Manager ({self._version(name)!r})"

    def _version(self, name: str) -> str:
        return f"projects/{self.project}/secrets/{self.prefix}{name}/versions/latest"
