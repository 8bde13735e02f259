"""Worker start-up and shutdown: flush usage and security events, close clients."""

from __future__ import annotations

import gc
import logging

from audit.security import close_writer
from gateway_project.store import RedisStore, store
from guardrails.jailbreak import prepare as prepare_jailbreak
from providers.http import close_client
from proxy.usage import close_recorder

logger = logging.getLogger(__name__)


async def lifespan(scope, receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            prepare_jailbreak()
            # Django's start-up objects live as long as the worker: keeping them
            # out of the collector's sweeps shortens its pauses under load.
            gc.freeze()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def shutdown() -> None:
    await close_recorder()
    await close_writer()
    await close_client()
    shared = store()
    if isinstance(shared, RedisStore):
        await shared.aclose()
