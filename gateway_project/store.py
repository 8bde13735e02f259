"""A small shared key-value store for the proxy's hot path.

Redis when ``REDIS_URL`` is set, so every worker and instance sees the same
verified keys and failure counters; otherwise this process's memory, which
suits the single-process quick start. The proxy uses the async methods; views,
services and commands use the sync ones. Django's cache framework is not used
here because its Redis backend has no native async methods: each call would
hop to a thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, cast

from django.conf import settings

import redis
import redis.asyncio as aredis
from redis.exceptions import NoScriptError

from gateway_project.passwords import redis_connection

logger = logging.getLogger(__name__)


class LocalStore:
    max_entries = 100_000

    def __init__(self) -> None:
        self._data: OrderedDict[str, tuple[float, bytes | int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self.get_locked(key)

    def ping(self) -> bool:
        return True

    def get_locked(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        value = entry[1]
        return value if isinstance(value, bytes) else str(value).encode()

    def set(self, key: str, value: bytes, ttl: float, nx: bool = False) -> None:
        with self._lock:
            if nx and self.get_locked(key) is not None:
                return
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str, ttl: float) -> int:
        with self._lock:
            now = time.monotonic()
            expires, value = self._data.get(key, (0.0, 0))
            count = 1 if expires < now else int(value) + 1
            self._data[key] = (expires if expires >= now else now + ttl, count)
            return count

    async def aget(self, key: str) -> bytes | None:
        return self.get(key)

    async def aset(self, key: str, value: bytes, ttl: float, nx: bool = False) -> None:
        self.set(key, value, ttl, nx)

    async def adelete(self, key: str) -> None:
        self.delete(key)

    async def aincr(self, key: str, ttl: float) -> int:
        return self.incr(key, ttl)


class RedisStore:
    """Redis, failing fast while it is unreachable.

    A call that cannot reach Redis (refused, or no answer within
    ``REDIS_SOCKET_TIMEOUT``) makes the async calls of the next
    ``REDIS_RETRY_SECONDS`` fail at once instead of each waiting out the
    timeout; callers apply their own policy to the failure.
    """

    def __init__(self, url: str, prefix: str) -> None:
        # The password comes from the secret cache for each new connection.
        self._url, self._options = redis_connection(url, ca_file=settings.REDIS_CA_FILE)
        timeout = settings.REDIS_SOCKET_TIMEOUT
        self._options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix
        self._sync = redis.Redis.from_url(self._url, **self._options)
        self._async: dict[asyncio.AbstractEventLoop, aredis.Redis] = {}
        self._down_until = 0.0

    def _client(self) -> aredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            # A blocking pool makes a burst wait for a free connection instead of
            # failing with "Too many connections".
            pool = aredis.BlockingConnectionPool.from_url(
                self._url,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                **self._options,
                timeout=settings.REDIS_POOL_TIMEOUT,
            )
            client = self._async[loop] = aredis.Redis(connection_pool=pool)
        return client

    def get(self, key: str) -> bytes | None:
        return cast(bytes | None, self._sync.get(self._prefix + key))

    def set(self, key: str, value: bytes, ttl: float, nx: bool = False) -> None:
        self._sync.set(self._prefix + key, value, px=int(ttl * 1000), nx=nx)

    def delete(self, key: str) -> None:
        self._sync.delete(self._prefix + key)

    def ping(self) -> bool:
        return bool(self._sync.ping())

    def zcount(self, key: str, minimum: float) -> int:
        """Members of a sorted set scored at ``minimum`` or above."""
        return int(self._sync.zcount(self._prefix + key, minimum, "+inf"))

    def incr(self, key: str, ttl: float) -> int:
        with self._sync.pipeline() as pipe:
            pipe.incr(self._prefix + key)
            pipe.expire(self._prefix + key, int(ttl), nx=True)
            return int(pipe.execute()[0])

    async def aget(self, key: str) -> bytes | None:
        return await self._run(lambda client: client.get(self._prefix + key))

    async def aget_refreshed(self, key: str, ttl: float) -> bytes | None:
        """Read and push the expiry back to ``ttl`` in the same round trip."""
        px = int(ttl * 1000)
        return await self._run(lambda client: client.getex(self._prefix + key, px=px))

    async def aset(self, key: str, value: bytes, ttl: float, nx: bool = False) -> None:
        px = int(ttl * 1000)
        await self._run(
            lambda client: client.set(self._prefix + key, value, px=px, nx=nx)
        )

    async def adelete(self, key: str) -> None:
        await self._run(lambda client: client.delete(self._prefix + key))

    async def aincr(self, key: str, ttl: float) -> int:
        async def incr(client: aredis.Redis) -> int:
            async with client.pipeline() as pipe:
                pipe.incr(self._prefix + key)
                pipe.expire(self._prefix + key, int(ttl), nx=True)
                return int((await pipe.execute())[0])

        return await self._run(incr)

    async def aeval(self, script: str, sha: str, keys: list[str], args: list) -> Any:
        """Run a Lua script by its SHA1; send its text only when Redis lacks it."""
        names = [self._prefix + key for key in keys]

        async def run(client: aredis.Redis) -> Any:
            try:
                return await client.evalsha(sha, len(names), *names, *args)  # type: ignore[misc]
            except NoScriptError:
                return await client.eval(script, len(names), *names, *args)  # type: ignore[misc]

        return await self._run(run)

    async def _run(self, call: Callable[[aredis.Redis], Awaitable[Any]]) -> Any:
        if time.monotonic() < self._down_until:
            raise redis.ConnectionError("Redis was unreachable a moment ago")
        try:
            return await call(self._client())
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self._down_until = time.monotonic() + settings.REDIS_RETRY_SECONDS
            logger.error(
                "Redis is unreachable (%s); not asked again for %s s",
                exc,
                settings.REDIS_RETRY_SECONDS,
            )
            raise

    async def aclose(self) -> None:
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


_store: LocalStore | RedisStore | None = None
_store_lock = threading.Lock()


def store() -> LocalStore | RedisStore:
    global _store
    with _store_lock:
        if _store is None:
            prefix = f"{settings.CACHES['default'].get('KEY_PREFIX', 'warden')}:fast:"
            _store = (
                RedisStore(settings.REDIS_URL, prefix)
                if settings.REDIS_URL
                else LocalStore()
            )
        return _store
