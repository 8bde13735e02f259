"""All outbound HTTP to providers goes through this module.

One ``httpx.AsyncClient`` per event loop (so one per worker), never following
redirects, ignoring proxy variables in the environment, always verifying
certificates (against the public roots, plus ``UPSTREAM_CA_FILE`` when set),
and connecting only to addresses that pass the network guard at connect time:
the host name is resolved here, every address is checked, and the connection is
made to the checked address itself. Plain http has a pool of its own, whose
guard also refuses public addresses.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import ssl
import typing

from django.conf import settings

import httpcore
import httpx
import orjson

from providers.adapters.base import UpstreamError
from providers.netguard import BlockedDestination, check_address

logger = logging.getLogger(__name__)


class QuickStream(httpcore.AsyncNetworkStream):
    """A connection whose "is the server gone?" check skips anyio's lookups.

    httpcore asks every idle connection in the pool that question each time it
    places a request, so with many kept-alive connections to one provider it
    was most of the proxy's CPU time. The answer is the same poll of the
    socket, made on a socket found once.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, *args: typing.Any, **kwargs: typing.Any) -> QuickStream:
        return QuickStream(await self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    fd = sock.fileno() if sock is not None else -1
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, plain_text: bool = False) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._plain_text = plain_text

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        for address in addresses:
            check_address(address, plain_text=self._plain_text)
        error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return QuickStream(stream)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, *args: typing.Any, **kwargs: typing.Any):
        raise BlockedDestination("unix sockets are not upstream destinations")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise httpcore.ConnectError(f"cannot resolve {host}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, limits: httpx.Limits, *, plain_text: bool = False) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx has no public way to choose httpcore's network backend; the pool
        # is rebuilt with the same options and the guarded backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verifying_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(plain_text=plain_text),
        )


def verifying_context() -> ssl.SSLContext:
    """Return a context that checks certificates and host names.

    It trusts the public roots (certifi's bundle) and, for providers behind
    a private CA, the certificates in ``UPSTREAM_CA_FILE`` as well.
    """
    context = httpx.create_ssl_context(trust_env=False)
    if settings.UPSTREAM_CA_FILE:
        context.load_verify_locations(cafile=settings.UPSTREAM_CA_FILE)
    return context


_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}


def client() -> httpx.AsyncClient:
    """Return this event loop's shared client."""
    loop = asyncio.get_running_loop()
    shared = _clients.get(loop)
    if shared is None or shared.is_closed:
        limits = httpx.Limits(
            max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
            max_keepalive_connections=min(200, settings.UPSTREAM_MAX_CONNECTIONS),
            keepalive_expiry=30.0,
        )
        shared = _clients[loop] = httpx.AsyncClient(
            transport=GuardedTransport(limits),
            mounts={"http://": GuardedTransport(limits, plain_text=True)},
            timeout=httpx.Timeout(
                settings.UPSTREAM_READ_TIMEOUT,
                connect=settings.UPSTREAM_CONNECT_TIMEOUT,
            ),
            follow_redirects=False,
            trust_env=False,
        )
    return shared


async def close_client() -> None:
    shared = _clients.pop(asyncio.get_running_loop(), None)
    if shared is not None:
        await shared.aclose()


async def send(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    payload: object | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Send one request; transport failures become ``UpstreamError``."""
    content = orjson.dumps(payload) if payload is not None else None
    try:
        request = client().build_request(method, url, headers=headers, content=content)
        return await client().send(request, stream=stream)
    except (BlockedDestination, httpx.InvalidURL):
        # A URL httpx cannot parse (a base URL stored before that was checked)
        # is as unusable as a forbidden one.
        raise UpstreamError(
            502,
            "The provider's address is not a permitted destination.",
            code="upstream_blocked",
        ) from None
    except httpx.TimeoutException:
        raise UpstreamError(
            504,
            "The provider did not answer in time.",
            code="upstream_timeout",
            retryable=True,
        ) from None
    except httpx.ConnectError as exc:
        if _certificate_refused(exc):
            # The host alone: a provider's URL may carry a key in its query.
            logger.warning(
                "provider certificate refused for %s: %s", request.url.host, exc
            )
            raise UpstreamError(
                502,
                "The provider's TLS certificate could not be verified.",
                code="upstream_certificate_invalid",
            ) from None
        raise _unreachable(exc) from None
    except httpx.HTTPError as exc:
        raise _unreachable(exc) from None


def _unreachable(exc: Exception) -> UpstreamError:
    return UpstreamError(
        502,
        f"The provider could not be reached ({type(exc).__name__}).",
        code="upstream_unreachable",
        retryable=True,
    )


def _certificate_refused(exc: BaseException) -> bool:
    """Return True if a TLS certificate check is among the causes of ``exc``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def iter_bytes(response: httpx.Response) -> typing.AsyncIterator[bytes]:
    """Yield the body as it arrives; a broken or stalled stream is ``UpstreamError``."""
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.TimeoutException:
        raise UpstreamError(
            504,
            "The provider stopped sending in time.",
            code="upstream_timeout",
            retryable=True,
        ) from None
    except httpx.HTTPError as exc:
        raise UpstreamError(
            502,
            f"The provider's stream broke off ({type(exc).__name__}).",
            code="upstream_stream_broken",
            retryable=True,
        ) from None
