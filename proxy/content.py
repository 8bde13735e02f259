"""Prompt and completion text of proxied requests, kept only on request.

Usage records hold no text unless the organisation turns on
``store_request_text``. Then the proxy captures the request's messages (or
embedding input) and the completion in memory, up to ``MAX_CAPTURE_BYTES``,
and the usage writer seals them with the organisation's data key before the
record is written: AES-256-GCM bound to the organisation, the request and its
time. Deleting the organisation destroys the key, and with it every text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction

import orjson
from asgiref.sync import sync_to_async

from accounts.models import Organization
from accounts.tenancy import tenant_context
from audit.services import record as audit_record
from providers import crypto
from providers.services import data_key_for
from proxy.models import UsageRecord

logger = logging.getLogger(__name__)

MAX_CAPTURE_BYTES = 256 * 1024
PURPOSE = "request-text"
READ_ACTION = "usage.text_viewed"
# The parts of a request body that carry its text, on every endpoint.
_REQUEST_FIELDS = ("system", "messages", "input")

# Per worker: organisation id -> (valid until, keeps request text).
_settings: dict[int, tuple[float, bool]] = {}


class TextCapture:
    """The text of one request and its completion, within the capture limit."""

    def __init__(self, body: dict) -> None:
        request = orjson.dumps({k: body[k] for k in _REQUEST_FIELDS if k in body})
        self.truncated = len(request) > MAX_CAPTURE_BYTES
        self.request = request[:MAX_CAPTURE_BYTES]
        self.choices: dict[int, list[str]] = {}
        self.completion_bytes = 0

    def add(self, index: int, text: object) -> None:
        if not isinstance(text, str) or not text:
            return
        data = text.encode()
        room = MAX_CAPTURE_BYTES - self.completion_bytes
        if len(data) > room:
            self.truncated = True
            data = data[: max(room, 0)]
            text = data.decode(errors="ignore")
        if text:
            self.completion_bytes += len(data)
            self.choices.setdefault(index, []).append(text)

    def reply(self, reply: dict) -> None:
        """Take the completion from a whole OpenAI or Anthropic reply."""
        for choice in _objects(reply.get("choices")):
            message = choice.get("message")
            if isinstance(message, dict):
                self.add(_index(choice), message.get("content"))
        if reply.get("type") == "message":
            for block in _objects(reply.get("content")):
                if block.get("type") == "text":
                    self.add(0, block.get("text"))

    def stream_item(self, item: Any) -> None:
        """Take the text of one OpenAI chunk or one Anthropic (name, data) event."""
        if isinstance(item, tuple):
            delta = item[1].get("delta") if isinstance(item[1], dict) else None
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                self.add(0, delta.get("text"))
            return
        for choice in _objects(item.get("choices")):
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self.add(_index(choice), delta.get("content"))

    def tap(self, encode: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
        """Wrap a stream's encoder so every relayed item is captured first."""

        def tapped(item: Any) -> bytes:
            self.stream_item(item)
            return encode(item)

        return tapped

    def payload(self) -> dict:
        """The text to store, within the limit in all.

        Each of the request and the completion may take at least half of it,
        and more when the other leaves room.
        """
        texts = ("".join(self.choices[i]) for i in sorted(self.choices))
        full = "\n\n".join(texts).encode()
        reply_room = max(MAX_CAPTURE_BYTES // 2, MAX_CAPTURE_BYTES - len(self.request))
        reply = full[:reply_room]
        request = self.request[: MAX_CAPTURE_BYTES - len(reply)]
        cut = len(request) < len(self.request) or len(reply) < len(full)
        return {
            "request": request.decode(errors="ignore"),
            "completion": reply.decode(errors="ignore"),
            "truncated": self.truncated or cut,
        }


async def capture_for(organization_id: int, body: dict) -> TextCapture | None:
    """Return a capture for the request if its organisation keeps request text.

    The setting is cached per worker for ``ROUTE_CACHE_SECONDS``, as the routes
    are, so the request path reads the database at most once per interval.
    """
    hit = _settings.get(organization_id)
    if hit is None or hit[0] <= time.monotonic():
        try:
            keeps = await sync_to_async(_load_setting)(organization_id)
        except DatabaseError:
            # Keeping text is optional: it never fails a request, and when in
            # doubt nothing is kept.
            logger.warning("request text setting unreadable org=%s", organization_id)
            keeps = False
        hit = (time.monotonic() + settings.ROUTE_CACHE_SECONDS, keeps)
        _settings[organization_id] = hit
    return TextCapture(body) if hit[1] else None


def forget_settings() -> None:
    _settings.clear()


def _load_setting(organization_id: int) -> bool:
    close_old_connections()
    return keeps_text(organization_id)


def keeps_text(organization_id: int) -> bool:
    """Return True if the organisation exists, is not deleted and keeps text."""
    return Organization.objects.filter(
        pk=organization_id, deleted_at__isnull=True, store_request_text=True
    ).exists()


def seal(organization_id: int, records: list[UsageRecord]) -> None:
    """Encrypt each record's captured text into ``text_ciphertext``.

    Called by the usage writer for one organisation's records, in the
    transaction that writes them; it may run again on the same records if
    that transaction fails. The setting is read again here, so text captured
    just before the organisation turned it off, or was deleted, is dropped.
    """
    captured = [r for r in records if r.pending_text is not None]
    for usage in records:
        usage.text_ciphertext = None
    if not captured or not keeps_text(organization_id):
        return
    try:
        # A savepoint: a gateway role that may not create the data key must
        # not take the usage records down with the text.
        with transaction.atomic():
            key = data_key_for(organization_id)
    except (crypto.CryptoError, DatabaseError):
        logger.exception("request text dropped org=%s", organization_id)
        return
    for usage in captured:
        text = orjson.dumps(usage.pending_text)
        usage.text_ciphertext = crypto.encrypt(key, text, _aad(usage))


def usage_text_read(*, usage: UsageRecord) -> dict | None:
    """Return the record's stored text, or None if it has none.

    For a reader already allowed to see the organisation's request logs; each
    read is audited. Raise ``crypto.CryptoError`` if the text cannot be
    decrypted, as after the organisation's deletion destroyed its data key.
    """
    if not usage.text_ciphertext:
        return None
    with tenant_context(usage.organization_id):
        key = data_key_for(usage.organization_id)
        text = crypto.decrypt(key, bytes(usage.text_ciphertext), _aad(usage))
        audit_record(
            READ_ACTION,
            organization=usage.organization_id,
            target=usage,
            detail={"request_id": usage.request_id},
        )
    return orjson.loads(text)


def reencrypt(organization_id: int, old_key: bytes, new_key: bytes) -> int:
    """Re-encrypt every stored text of the organisation under a new data key.

    Runs in the data key rotation's transaction, so the texts and the key
    change together; returns how many texts were re-encrypted.
    """
    stored = (
        UsageRecord.objects.for_organization(organization_id)
        .filter(text_ciphertext__isnull=False)
        .only("pk", "organization_id", "request_id", "created_at", "text_ciphertext")
        .order_by("pk")
    )
    count, last = 0, 0
    while batch := list(stored.filter(pk__gt=last).select_for_update()[:500]):
        for usage in batch:
            text = crypto.decrypt(old_key, bytes(usage.text_ciphertext), _aad(usage))
            usage.text_ciphertext = crypto.encrypt(new_key, text, _aad(usage))
        UsageRecord.objects.bulk_update(batch, ["text_ciphertext"])
        count, last = count + len(batch), batch[-1].pk
    return count


def _aad(usage: UsageRecord) -> bytes:
    # Request ids may come from the caller and repeat; with the record's time
    # they name one record, so a ciphertext moved to another record fails.
    created = usage.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    row = f"{usage.request_id}@{created}"
    return crypto.credential_aad(usage.organization_id, row, PURPOSE)


def _objects(value: object) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _index(choice: dict) -> int:
    index = choice.get("index")
    return index if isinstance(index, int) and index >= 0 else 0
