"""A time-limited cache in front of a secret source.

The first read of a name asks the source and fails loudly. Later reads are
served from memory; once an entry is older than the cache time it is
refreshed in the background, so a request never waits on the secret store
and a rotated secret is picked up without a restart. A refresh that fails
keeps the last value in use and is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from gateway_project.env import ConfigError
from gateway_project.secret_sources.base import Source, SourceError

logger = logging.getLogger(__name__)


def in_a_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="secret-refresh", daemon=True).start()


class SecretStore:
    def __init__(
        self,
        source: Source,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] = in_a_thread,
    ) -> None:
        self.source, self.ttl = source, ttl
        self._clock, self._spawn = clock, spawn
        self._entries: dict[str, tuple[str | None, float]] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

    def lookup(self, name: str) -> str | None:
        """Return the secret ``name``, or None if the source does not hold it.

        Raise ``ConfigError``, naming the secret and the source, if the first
        read fails.
        """
        entry = self._entries.get(name)
        if entry is None:
            return self._load(name)
        value, fetched_at = entry
        if self._clock() - fetched_at >= self.ttl:
            self._refresh_soon(name)
        return value

    def get(self, name: str) -> str:
        value = self.lookup(name)
        if not value:
            raise ConfigError(f"{name} is not set in {self.source.describe(name)}")
        return value

    def _load(self, name: str) -> str | None:
        try:
            value = self.source.fetch(name)
        except SourceError as exc:
            where = self.source.describe(name)
            raise ConfigError(f"{name} cannot be read from {where}: {exc}") from None
        self._entries[name] = (value, self._clock())
        return value

    def _refresh_soon(self, name: str) -> None:
        with self._lock:
            if name in self._refreshing:
                return
            self._refreshing.add(name)
        self._spawn(lambda: self._refresh(name))

    def _refresh(self, name: str) -> None:
        value = self._entries[name][0]
        try:
            value = self._fetch_again(name, value)
        finally:
            # A failed refresh is tried again one cache time later, not on
            # every read.
            self._entries[name] = (value, self._clock())
            with self._lock:
                self._refreshing.discard(name)

    def _fetch_again(self, name: str, previous: str | None) -> str | None:
        try:
            value = self.source.fetch(name)
        except (SourceError, ConfigError) as exc:
            reason = str(exc)
        else:
            if value is not None or previous is None:
                return value
            reason = "it is no longer there"
        logger.warning(
            "%s could not be refreshed from %s (%s); the cached value stays in use",
            name,
            self.source.describe(name),
            reason,
        )
        return previous
