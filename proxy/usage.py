"""Usage records, written in batches off the response path.

Each worker queues records in memory and writes them every
``USAGE_FLUSH_SECONDS`` with one bulk insert, so recording never delays an
answer. A failed write keeps the batch for the next attempt; the worker's
shutdown writes whatever is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from django.conf import settings
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    close_old_connections,
    transaction,
)

from asgiref.sync import sync_to_async

from accounts.tenancy import tenant_context
from gateway_project import logcontext
from guardrails.models import GuardrailEvent
from keys.models import ApiKey
from proxy.content import seal
from proxy.models import UsageRecord

logger = logging.getLogger(__name__)

MAX_PENDING = 200_000
# Captured request text can be 256 KiB a record: while the database is behind,
# records beyond this depth are kept without it, so memory stays bounded.
MAX_PENDING_WITH_TEXT = 1_000


class UsageRecorder:
    def __init__(self) -> None:
        self._pending: list[UsageRecord] = []
        self._task: asyncio.Task | None = None

    def record(self, record: UsageRecord) -> None:
        if len(self._pending) >= MAX_PENDING:
            logger.error("usage queue full; dropping the oldest record")
            self._pending.pop(0)
        if (
            record.pending_text is not None
            and len(self._pending) >= MAX_PENDING_WITH_TEXT
        ):
            logger.warning(
                "usage queue deep; request text not kept request_id=%s",
                record.request_id,
            )
            record.pending_text = None
        self._pending.append(record)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # Started by one request, the task serves them all: no request id.
        logcontext.clear()
        while self._pending:
            await asyncio.sleep(settings.USAGE_FLUSH_SECONDS)
            await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await sync_to_async(write_batch)(batch)
        except (IntegrityError, DataError):
            # A record whose organisation or key was deleted meanwhile, or whose
            # text the database refuses, can never be written; write the others
            # one by one and drop only those.
            logger.warning("usage batch refused; writing records one by one")
            for record in await sync_to_async(write_each)(batch):
                logger.error("usage record dropped request_id=%s", record.request_id)
        except DatabaseError:
            logger.exception(
                "usage write failed; %d records kept for retry", len(batch)
            )
            self._pending[:0] = batch
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for _ in range(3):
            if not self._pending:
                return
            await self.flush()


def write_batch(batch: list[UsageRecord]) -> None:
    close_old_connections()
    last_used: dict[int, object] = defaultdict(lambda: None)
    for record in batch:
        if record.api_key_id is not None:
            last_used[record.api_key_id] = record.created_at
    by_organization: dict[int, list[UsageRecord]] = defaultdict(list)
    for record in batch:
        by_organization[record.organization_id].append(record)
    with transaction.atomic():
        for organization_id, records in by_organization.items():
            with tenant_context(organization_id):
                seal(organization_id, records)
                UsageRecord.objects.bulk_create(records, batch_size=500)
                events = [event for r in records for event in r.pending_events]
                GuardrailEvent.objects.bulk_create(events, batch_size=500)
                # last_used_at comes from the batch, not from a write per request.
                keys = {r.api_key_id for r in records if r.api_key_id is not None}
                for key_id in keys:
                    ApiKey.objects.filter(pk=key_id).update(
                        last_used_at=last_used[key_id]
                    )


def write_each(batch: list[UsageRecord]) -> list[UsageRecord]:
    """Write records separately; return those that could not be written."""
    failed = []
    for record in batch:
        try:
            write_batch([record])
        except (IntegrityError, DataError):
            failed.append(record)
    return failed


_recorders: dict[asyncio.AbstractEventLoop, UsageRecorder] = {}


def recorder() -> UsageRecorder:
    loop = asyncio.get_running_loop()
    found = _recorders.get(loop)
    if found is None:
        found = _recorders[loop] = UsageRecorder()
    return found


async def close_recorder() -> None:
    found = _recorders.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()
