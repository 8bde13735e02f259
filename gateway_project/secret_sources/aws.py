"""Secrets from AWS Secrets Manager, one secret per name under a prefix."""

from __future__ import annotations

from typing import Any

from gateway_project.env import ConfigError
from gateway_project.secret_sources.base import SourceError


class AwsSecretsManagerSource:
    def __init__(self, *, prefix: str, region: str, endpoint_url: str) -> None:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError

        self.prefix = prefix
        config = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2})
        try:
            self._client: Any = boto3.client(
                "secretsmanager",
                region_name=region or None,
                endpoint_url=endpoint_url or None,
                config=config,
            )
        except NoRegionError:
            raise ConfigError(
                "SECRETS_BACKEND=aws needs a region: set SECRETS_AWS_REGION "
                "or AWS_REGION"
            ) from None

    def fetch(self, name: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.get_secret_value(SecretId=self.prefix + name)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            if code == "ResourceNotFoundException":
                return None
            raise SourceError(code) from None
        except BotoCoreError as exc:
            raise SourceError(type(exc).__name__) from None
        if "SecretString" in answer:
            return answer["SecretString"]
        try:
            return answer["SecretBinary"].decode()
        except UnicodeDecodeError:
            raise SourceError("the secret is binary, not UTF-8 text") from None

    def describe(self, name: str) -> str:
        return f"AWS Secrets Manager (secret id {self.prefix + name!r})"
