"""Reading an organisation's audit trail: filters, search, pages, one event.

Each function opens its own ``tenant_context`` except ``event_queryset``,
which is lazy: evaluate it inside ``tenant_context(organization)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import and_, or_
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Max, Q
from django.db.models.expressions import RawSQL
from django.http import Http404

from accounts.models import Organization
from accounts.tenancy import TenantQuerySet, tenant_context
from audit.models import AuditEvent

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

SEARCH_COLUMNS = (
    "action",
    "target_type",
    "target_id",
    "actor_email",
    "before",
    "after",
    "detail",
)
# Must stay the expression of the GIN index made by migration
# 0003_search_index, or PostgreSQL cannot use the index for it.
SEARCH_DOCUMENT = (
    "to_tsvector('simple', action || ' ' || target_type || ' ' || target_id"
    " || ' ' || actor_email || ' ' || \"before\" || ' ' || \"after\""
    " || ' ' || detail)"
)


@dataclass(frozen=True)
class EventFilters:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""
    q: str = ""


def event_queryset(
    organization: Organization | int, filters: EventFilters
) -> TenantQuerySet:
    """Return the organisation's events matching ``filters``, newest first."""
    events = AuditEvent.objects.for_organization(organization)
    if filters.since:
        events = events.filter(created_at__gte=filters.since)
    if filters.until:
        events = events.filter(created_at__lt=filters.until)
    if filters.actor:
        actor = filters.actor
        events = events.filter(Q(actor_id=actor) | Q(actor_email__icontains=actor))
    if filters.action:
        events = events.filter(_action_filter(filters.action))
    for name in ("target_type", "target_id", "outcome"):
        if value := getattr(filters, name):
            events = events.filter(**{name: value})
    if filters.q:
        events = events.filter(search_filter(filters.q))
    return events.order_by("-seq")


def _action_filter(action: str) -> Q:
    """``api_key.`` or ``api_key.*`` match every api_key action; else exact."""
    if action.endswith("*"):
        return Q(action__startswith=action.rstrip("*"))
    if action.endswith("."):
        return Q(action__startswith=action)
    return Q(action=action)


def search_filter(text: str) -> Q | RawSQL:
    if connection.vendor == "postgresql":
        # Known gap: under row-level security PostgreSQL only uses an index
        # for leakproof operators, and @@ is not one, so for the application
        # role this filters the organisation's rows one by one instead of
        # scanning the GIN index. Searching a large trail is slow until the
        # search runs as a role that row-level security does not bind.
        # Constant SQL; the searched text is a parameter.
        return RawSQL(  # noqa: S611  # nosec B611
            f"{SEARCH_DOCUMENT} @@ websearch_to_tsquery('simple', %s)",
            [text],
            output_field=BooleanField(),
        )
    # SQLite, the quick-start database: every word somewhere in the columns.
    words = text.split() or [text]
    return reduce(and_, [_anywhere(word) for word in words])


def _anywhere(word: str) -> Q:
    return reduce(or_, [Q(**{f"{name}__icontains": word}) for name in SEARCH_COLUMNS])


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    newer_than: int | None  # the seq to page forward from, if there are newer
    older_than: int | None  # the seq to page back from, if there are older


def event_page(
    organization: Organization,
    filters: EventFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page of matching events, older than ``before`` or newer than ``after``.

    Keyset paging on seq: a page stays the same while new events arrive.
    """
    size = min(size, MAX_PAGE_SIZE)
    with tenant_context(organization):
        matching = event_queryset(organization, filters)
        if after is not None:
            rows = list(matching.filter(seq__gt=after).order_by("seq")[: size + 1])
            events = rows[:size][::-1]
        else:
            older = matching.filter(seq__lt=before) if before else matching
            rows = list(older[: size + 1])
            events = rows[:size]
        if not events:
            return EventPage([], None, None)
        newest, oldest = events[0].seq, events[-1].seq
        more_newer = matching.filter(seq__gt=newest).exists()
        more_older = matching.filter(seq__lt=oldest).exists()
    return EventPage(
        events,
        newer_than=newest if more_newer else None,
        older_than=oldest if more_older else None,
    )


def event_chunk(
    organization: Organization | int,
    filters: EventFilters,
    *,
    before: int,
    size: int,
) -> list[AuditEvent]:
    """Up to ``size`` matching events with seq below ``before``, newest first."""
    with tenant_context(organization):
        matching = event_queryset(organization, filters)
        return list(matching.filter(seq__lt=before)[:size])


def newest_seq(organization: Organization | int) -> int:
    with tenant_context(organization):
        events = AuditEvent.objects.for_organization(organization)
        return events.aggregate(newest=Max("seq"))["newest"] or 0


@dataclass(frozen=True)
class Change:
    field: str
    kind: str  # "added", "removed" or "changed"
    before: Any = None
    after: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "change": self.kind,
            "before": self.before,
            "after": self.after,
        }

    @property
    def before_json(self) -> str:
        return json.dumps(self.before, ensure_ascii=False)

    @property
    def after_json(self) -> str:
        return json.dumps(self.after, ensure_ascii=False)


@dataclass(frozen=True)
class EventDetail:
    event: AuditEvent
    before: Any
    after: Any
    detail: Any
    changes: list[Change] = field(default_factory=list)

    def pretty(self, name: str) -> str:
        value = getattr(self, name)
        return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)

    @property
    def before_pretty(self) -> str:
        return self.pretty("before")

    @property
    def after_pretty(self) -> str:
        return self.pretty("after")

    @property
    def detail_pretty(self) -> str:
        return self.pretty("detail")


def event_detail(organization: Organization, event_id: int) -> EventDetail:
    """The organisation's event ``event_id`` with its values parsed; else Http404."""
    with tenant_context(organization):
        events = AuditEvent.objects.for_organization(organization)
        event = events.filter(pk=event_id).first()
    if event is None:
        raise Http404("No such audit event.")
    before, after = parse(event.before), parse(event.after)
    return EventDetail(event, before, after, parse(event.detail), diff(before, after))


def parse(text: str) -> Any:
    """The stored canonical JSON text as a value; None when empty.

    A row that is not JSON (written around the application) is shown as the
    text it holds rather than failing the page; audit_verify reports it.
    """
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def diff(before: Any, after: Any) -> list[Change]:
    """Field by field, nested objects as dotted paths, in field order."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            changes.append(Change(key, "added", after=new[key]))
        elif key not in new:
            changes.append(Change(key, "removed", before=old[key]))
        elif not _same(old[key], new[key]):
            changes.append(Change(key, "changed", old[key], new[key]))
    return changes


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if value is None and not path:
        return {}  # no before (a creation) or no after (a deletion)
    if not isinstance(value, dict):
        return {path or "(value)": value}
    if not value:
        return {path: value} if path else {}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{path}.{key}" if path else str(key)))
    return flat


def _same(a: Any, b: Any) -> bool:
    # As JSON, so that 1 and true, or 1 and 1.0, count as different values.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
