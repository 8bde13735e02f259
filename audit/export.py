"""Exports of an organisation's audit trail as CSV or JSON, streamed.

A year of records does not fit in memory, so the response is fed by an async
generator that reads a chunk at a time, each in its own short transaction.
It must be async: under ASGI Django reads a synchronous iterator to the end
before it sends the first byte.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from asgiref.sync import sync_to_async

from accounts.models import Organization
from accounts.tenancy import tenant_context
from audit import selectors, services
from audit.context import Actor
from audit.models import AuditEvent
from audit.selectors import EventFilters

EXPORT_ACTION = "audit.exported"
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
CHUNK_SIZE = 1000

COLUMNS = (
    "id",
    "seq",
    "created_at",
    "actor_type",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "ip_address",
    "user_agent",
    "request_id",
    "before",
    "after",
    "detail",
    "prev_hash",
    "hash",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    organization: Organization
    format: str
    filters: EventFilters
    through_seq: int  # the newest event when the export began


def export_start(
    *,
    organization: Organization,
    format: str,
    filters: EventFilters,
    params: dict[str, str],
    actor: Actor,
) -> Export:
    """Record the export, then return what it covers: matches up to now.

    ``params`` are the filters as the person gave them, for the record.
    """
    with tenant_context(organization):
        through_seq = selectors.newest_seq(organization)
        detail = {"format": format, "filters": params, "through_seq": through_seq}
        services.record(
            EXPORT_ACTION, organization=organization, detail=detail, actor=actor
        )
    return Export(organization, format, filters, through_seq)


def export_response(
    export: Export, *, chunk_size: int = CHUNK_SIZE
) -> StreamingHttpResponse:
    stream = csv_stream if export.format == "csv" else json_stream
    response = StreamingHttpResponse(
        stream(export, chunk_size=chunk_size), content_type=FORMATS[export.format]
    )
    day = timezone.now().date().isoformat()
    filename = f"audit-{export.organization.slug}-{day}.{export.format}"
    # A slug and a date: nothing in the name needs quoting or encoding.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # a buffering proxy would undo the streaming
    return response


async def chunks(export: Export, chunk_size: int) -> AsyncIterator[list[AuditEvent]]:
    """The matching events, newest first, ``chunk_size`` at a time."""
    fetch = sync_to_async(selectors.event_chunk)
    before = export.through_seq + 1
    while True:
        events = await fetch(
            export.organization.pk, export.filters, before=before, size=chunk_size
        )
        if events:
            yield events
        if len(events) < chunk_size:
            return
        before = events[-1].seq


async def csv_stream(export: Export, *, chunk_size: int) -> AsyncIterator[str]:
    yield _csv_text([COLUMNS])
    async for events in chunks(export, chunk_size):
        yield _csv_text(csv_row(event) for event in events)


async def json_stream(export: Export, *, chunk_size: int) -> AsyncIterator[str]:
    """One JSON array, written a chunk of elements at a time."""
    separator = "\n"
    yield "["
    async for events in chunks(export, chunk_size):
        documents = [json.dumps(event_document(e), ensure_ascii=False) for e in events]
        yield separator + ",\n".join(documents)
        separator = ",\n"
    yield "\n]\n"


def event_document(event: AuditEvent) -> dict[str, Any]:
    """The event as the API and the JSON export show it: values parsed."""
    document = {name: getattr(event, name) for name in COLUMNS}
    document["created_at"] = event.created_at.isoformat()
    for name in ("before", "after", "detail"):
        document[name] = selectors.parse(document[name])
    return document


def csv_row(event: AuditEvent) -> list[str]:
    values = [getattr(event, name) for name in COLUMNS]
    values[COLUMNS.index("created_at")] = event.created_at.isoformat()
    return [_inert(str(value)) for value in values]


def _inert(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv_text(rows: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
