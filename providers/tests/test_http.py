"""The outbound connection's quick "is the server gone?" check."""

import asyncio
import socket

import pytest

from providers.http import GuardedBackend


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    sock.settimeout(2)
    yield sock
    sock.close()


def test_idle_connection_reports_a_server_that_hung_up(settings, listener):
    settings.UPSTREAM_ALLOW_PRIVATE_NETWORKS = True
    port = listener.getsockname()[1]

    async def check() -> tuple[bool, bool]:
        stream = await GuardedBackend().connect_tcp("127.0.0.1", port, timeout=2)
        server_side, _ = listener.accept()
        before = stream.get_extra_info("is_readable")
        server_side.close()
        await asyncio.sleep(0.05)
        after = stream.get_extra_info("is_readable")
        await stream.aclose()
        return before, after

    assert asyncio.run(check()) == (False, True)
