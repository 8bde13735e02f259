"""Batched usage writes: a record the database refuses does not block the rest."""

import asyncio

from django.db import connections
from django.utils import timezone

import pytest
from asgiref.sync import sync_to_async

from accounts.tenancy import platform_context
from proxy import usage
from proxy.models import UsageRecord
from proxy.usage import UsageRecorder
from tests.factories import make_tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def record(tenant, model: str) -> UsageRecord:
    return UsageRecord(
        organization=tenant.organization,
        project=tenant.project,
        api_key=tenant.api_key,
        request_id=f"req-{model.encode().hex()}",
        endpoint="chat/completions",
        model=model,
        status_code=200,
        created_at=timezone.now(),
    )


def test_record_postgresql_refuses_is_dropped_and_the_others_written():
    # PostgreSQL refuses NUL in text; SQLite would store it, hence the marker.
    tenant = make_tenant()
    recorder = UsageRecorder()
    batch = [
        record(tenant, "good-1"),
        record(tenant, "bad\x00"),
        record(tenant, "good-2"),
    ]

    async def flush() -> None:
        recorder._pending.extend(batch)
        try:
            await recorder.flush()
        finally:
            # The write ran on asgiref's worker thread; its connection would
            # keep the test database from being dropped.
            await sync_to_async(connections.close_all)()

    asyncio.run(flush())

    with platform_context():
        written = sorted(UsageRecord.objects.values_list("model", flat=True))
    assert written == ["good-1", "good-2"]
    assert recorder._pending == []


def test_a_deep_queue_keeps_records_but_not_their_text(monkeypatch):
    monkeypatch.setattr(usage, "MAX_PENDING_WITH_TEXT", 2)
    tenant = make_tenant()
    recorder = UsageRecorder()
    batch = [record(tenant, f"m-{n}") for n in range(4)]
    text = {"request": "x" * 999, "completion": "", "truncated": False}

    async def fill() -> None:
        # The writer task cannot run before the queue is full: nothing awaits.
        for item in batch:
            item.pending_text = dict(text)
            recorder.record(item)
        assert recorder._task is not None
        recorder._task.cancel()

    asyncio.run(fill())

    assert recorder._pending == batch
    assert [r.pending_text is not None for r in batch] == [True, True, False, False]
