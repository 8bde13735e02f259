"""A time-limited cache in front of a secret source.

The first read of a name asks the source and fails loudly. Later reads are
served from memory; once an entry is older than the cache time it is
refreshed in the background, so a request never waits on the secret store
and a rotated secret is picked up without a restart. A refresh that fails
keeps the last value in use and is logged.

A name can be watched: its watchers are called with each new value, and a
daemon thread refreshes watched names every cache time even when nothing
reads them.
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
        self._watchers: dict[str, list[Callable[[str | None], None]]] = {}
        self._watching: threading.Event | None = None
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

    def watch(self, name: str, callback: Callable[[str | None], None]) -> None:
        """Call ``callback`` with the new value each time ``name`` changes.

        Callbacks run in the refreshing thread and must not raise.
        """
        with self._lock:
            self._watchers.setdefault(name, []).append(callback)

    def start_watching(self) -> None:
        """Refresh the watched names every cache time, in one daemon thread."""
        with self._lock:
            if self._watching is not None:
                return
            self._watching = threading.Event()
        threading.Thread(
            target=self._watch, args=(self._watching,), name="secret-watch", daemon=True
        ).start()

    def stop_watching(self) -> None:
        with self._lock:
            stopped, self._watching = self._watching, None
        if stopped is not None:
            stopped.set()

    def refresh_watched(self) -> None:
        """Refresh each watched name whose value is older than the cache time."""
        for name in list(self._watchers):
            entry = self._entries.get(name)
            stale = entry is not None and self._clock() - entry[1] >= self.ttl
            if stale and self._claim(name):
                self._refresh(name)

    def _watch(self, stopped: threading.Event) -> None:
        # Never faster than once a second, even with the cache turned off.
        while not stopped.wait(max(self.ttl, 1.0)):
            try:
                self.refresh_watched()
            except Exception:
                logger.exception("watched secrets could not be refreshed")

    def _load(self, name: str) -> str | None:
        try:
            value = self.source.fetch(name)
        except SourceError as exc:
            where = self.source.describe(name)
            raise ConfigError(f"{name} cannot be read from {where}: {exc}") from None
        self._entries[name] = (value, self._clock())
        return value

    def _refresh_soon(self, name: str) -> None:
        if self._claim(name):
            self._spawn(lambda: self._refresh(name))

    def _claim(self, name: str) -> bool:
        """Return True if no refresh of ``name`` is running, and mark one running."""
        with self._lock:
            if name in self._refreshing:
                return False
            self._refreshing.add(name)
            return True

    def _refresh(self, name: str) -> None:
        value = previous = self._entries[name][0]
        try:
            value = self._fetch_again(name, previous)
        finally:
            # A failed refresh is tried again one cache time later, not on
            # every read.
            self._entries[name] = (value, self._clock())
            with self._lock:
                self._refreshing.discard(name)
        if value != previous:
            for callback in self._watchers.get(name, []):
                callback(value)

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
