"""Database and Redis passwords asked of the secret cache for each new connection.

``DATABASE_PASSWORD`` and ``REDIS_PASSWORD`` are read when a connection is
opened, not once at start-up, so a rotated password is used by the next
connection without a restart. Connections already open stay as they are: the
servers do not drop them when a password changes, and the pools replace them
in time (PostgreSQL connections live at most an hour in psycopg's pool).
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from redis.credentials import CredentialProvider

from gateway_project import secret_sources


class SecretPasswordConnection(psycopg.Connection):
    """A psycopg connection that logs in with the current ``DATABASE_PASSWORD``.

    Without that secret, the password from the settings is used as it is.
    """

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
        password = secret_sources.lookup("DATABASE_PASSWORD")
        if password:
            kwargs["password"] = password
        return super().connect(conninfo, **kwargs)


class SecretRedisCredentials(CredentialProvider):
    """The URL's user name and the current ``REDIS_PASSWORD``, or the URL's password."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.username = unquote(parts.username or "")
        self._password = unquote(parts.password or "")

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        password = secret_sources.lookup("REDIS_PASSWORD") or self._password
        return (self.username, password) if self.username else (password,)

    async def get_credentials_async(self) -> tuple[str] | tuple[str, str]:
        # Served from memory: a stale secret is refreshed in another thread.
        return self.get_credentials()


def redis_connection(url: str, *, ca_file: str = "") -> tuple[str, dict[str, Any]]:
    """Return ``url`` without its credentials, and the options that supply them.

    redis-py refuses a URL's password together with a credential provider, so
    the provider alone carries both. Every Redis client (the cache, the
    store) is made from these, so ``ca_file``, the CA that signed a
    ``rediss://`` server's certificate, reaches them all.
    """
    parts = urlsplit(url)
    options: dict[str, Any] = {"ssl_ca_certs": ca_file} if ca_file else {}
    if not (parts.password or secret_sources.lookup("REDIS_PASSWORD")):
        return url, options
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=host))
    return bare, {**options, "credential_provider": SecretRedisCredentials(url)}
