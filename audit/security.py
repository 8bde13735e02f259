"""Security events from the proxy, written to the audit trail off the hot path.

A request refused after its key named an organisation (a revoked or expired
key today; limit and guardrail blocks later) goes on that organisation's
trail as ``security.request_blocked``. ``security_event`` only queues it; a
task per worker writes the queue through ``audit.services.record`` every
``USAGE_FLUSH_SECONDS``, so the refusal is answered at once.

Requests bearing unknown or malformed keys are only logged: anyone can send
those, and a row each would let them fill the table. A genuine key can still
be replayed in a flood, so each (organisation, key, reason) gets at most
``PER_SOURCE_LIMIT`` records per ``WINDOW_SECONDS`` and one summary record of
how many more there were; the queue itself is capped, and what does not fit
is dropped with a logged warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, close_old_connections

from asgiref.sync import sync_to_async

from accounts.tenancy import tenant_context
from audit.context import Actor, bound
from audit.models import AuditEvent
from audit.services import AuditWriteError, record
from gateway_project import logcontext
from gateway_project.clientaddr import canonical

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("warden.security.proxy")

REQUEST_BLOCKED = "security.request_blocked"
MAX_PENDING = 10_000
MAX_SOURCES = 10_000
PER_SOURCE_LIMIT = 10
WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class SecurityEvent:
    organization_id: int
    reason: str
    endpoint: str
    api_key: str  # the key's public id, never the key
    client_ip: str
    request_id: str
    user_agent: str = ""
    detail: dict = field(default_factory=dict)
    not_recorded: int = 0  # for a summary: how many like it were left out

    @property
    def source(self) -> tuple[int, str, str]:
        return self.organization_id, self.api_key, self.reason


def security_event(
    *,
    organization_id: int,
    reason: str,
    endpoint: str,
    api_key: str,
    client_ip: str,
    request_id: str,
    user_agent: str = "",
    detail: dict | None = None,
) -> None:
    """Record that a request of ``organization_id``'s key ``api_key`` was refused.

    ``reason`` is a short code (``key_revoked``, ``key_expired``,
    ``guardrail_blocked``...); ``api_key`` is the public id. From async code
    the record is queued and written shortly after; from sync code it is
    written at once, joining the caller's transaction.
    """
    event = SecurityEvent(
        organization_id, reason, endpoint, api_key, client_ip, request_id,
        user_agent[:512], detail or {},
    )  # fmt: skip
    security_logger.info(
        "request blocked org=%s key=%s reason=%s client=%s",
        organization_id,
        api_key,
        reason,
        client_ip,
    )
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        with tenant_context(organization_id):
            _write(event)
        return
    writer_for(loop).add(event)


@dataclass
class _Window:
    started: float
    recorded: int = 0
    left_out: int = 0
    last_left_out: SecurityEvent | None = None


class SecurityEventWriter:
    """One worker's queue of security events and the task that writes it."""

    def __init__(self) -> None:
        self._pending: list[SecurityEvent] = []
        self._windows: dict[tuple[int, str, str], _Window] = {}
        self._dropped = 0
        self._task: asyncio.Task | None = None

    def add(self, event: SecurityEvent) -> None:
        now = time.monotonic()
        window = self._windows.get(event.source)
        if window is None or now - window.started >= WINDOW_SECONDS:
            if window is None and len(self._windows) >= MAX_SOURCES:
                self._dropped += 1
                return
            if window is not None:
                self._summarise(window)
            window = self._windows[event.source] = _Window(now)
        if window.recorded >= PER_SOURCE_LIMIT:
            window.left_out += 1
            window.last_left_out = event
        else:
            window.recorded += 1
            self._queue(event)
        self._start()

    def _queue(self, event: SecurityEvent) -> None:
        if len(self._pending) >= MAX_PENDING:
            self._dropped += 1
        else:
            self._pending.append(event)

    def _summarise(self, window: _Window) -> None:
        if window.last_left_out is not None:
            self._queue(replace(window.last_left_out, not_recorded=window.left_out))

    def _expire_windows(self) -> None:
        now = time.monotonic()
        for source, window in list(self._windows.items()):
            if now - window.started >= WINDOW_SECONDS:
                self._summarise(window)
                del self._windows[source]

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # Started by one request, the task serves them all: no request id.
        logcontext.clear()
        while self._pending or self._windows:
            await asyncio.sleep(settings.USAGE_FLUSH_SECONDS)
            self._expire_windows()
            await self.flush()

    async def flush(self) -> None:
        if self._dropped:
            logger.warning(
                "security event queue full; %d events dropped", self._dropped
            )
            self._dropped = 0
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            retry = await sync_to_async(write_events)(batch)
        except Exception:
            logger.exception("security events dropped: %d not written", len(batch))
            return
        if retry:
            room = max(0, MAX_PENDING - len(self._pending))
            self._dropped += max(0, len(retry) - room)
            self._pending[:0] = retry[:room]
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for window in self._windows.values():
            self._summarise(window)
        self._windows.clear()
        for _ in range(3):
            if not self._pending:
                return
            await self.flush()


def write_events(batch: list[SecurityEvent]) -> list[SecurityEvent]:
    """Write the events, each organisation's in its own transaction.

    Return those worth retrying (the database was unreachable); events the
    database refuses (their organisation is gone) are dropped and logged.
    """
    close_old_connections()  # this runs on a worker thread of its own
    by_organization: dict[int, list[SecurityEvent]] = defaultdict(list)
    for event in batch:
        by_organization[event.organization_id].append(event)
    retry: list[SecurityEvent] = []
    for organization_id in sorted(by_organization):
        events = by_organization[organization_id]
        try:
            with tenant_context(organization_id):
                for event in events:
                    _write(event)
        except (AuditWriteError, DatabaseError) as exc:
            cause = exc.__cause__ if isinstance(exc, AuditWriteError) else exc
            if isinstance(cause, DatabaseError) and not isinstance(
                cause, IntegrityError | DataError
            ):
                logger.warning(
                    "security event write failed; %d kept for retry", len(events)
                )
                retry.extend(events)
            else:
                logger.error(
                    "security events dropped org=%s count=%d: %s",
                    organization_id,
                    len(events),
                    cause,
                )
    return retry


def _write(event: SecurityEvent) -> None:
    detail: dict[str, Any] = {
        "reason": event.reason,
        "endpoint": event.endpoint,
        **event.detail,
    }
    if event.not_recorded:
        detail["similar_not_recorded"] = event.not_recorded
        detail["window_seconds"] = WINDOW_SECONDS
    with bound(
        actor=Actor.api_key(event.api_key),
        ip_address=canonical(event.client_ip),
        user_agent=event.user_agent,
        request_id=event.request_id,
    ):
        record(
            REQUEST_BLOCKED,
            organization=event.organization_id,
            target_type="keys.apikey",
            target_id=event.api_key,
            detail=detail,
            outcome=AuditEvent.Outcome.DENIED,
        )


_writers: dict[asyncio.AbstractEventLoop, SecurityEventWriter] = {}


def writer_for(loop: asyncio.AbstractEventLoop) -> SecurityEventWriter:
    found = _writers.get(loop)
    if found is None:
        found = _writers[loop] = SecurityEventWriter()
    return found


async def close_writer() -> None:
    found = _writers.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()
