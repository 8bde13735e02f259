"""Request logs keep prompt and completion text only on request, and then sealed."""

from __future__ import annotations

import asyncio
import secrets

from django.utils import timezone

import httpx
import pytest

from accounts.models import Organization
from accounts.privacy import organization_delete
from accounts.tenancy import platform_context, tenant_context
from audit.models import AuditEvent
from providers import crypto
from providers.services import organization_key_rotate
from proxy import content
from proxy.content import MAX_CAPTURE_BYTES, TextCapture, usage_text_read
from proxy.models import UsageRecord
from proxy.usage import write_batch
from tests.conftest import start_gateway, stop
from tests.factories import add_credential, make_tenant, new_request_id, wait_for_usage
from tests.fake_upstream import FakeUpstream
from tests.test_secret_canaries import cell_texts, database_cells, leaks

pytestmark = pytest.mark.django_db(transaction=True)


def keep_text(organization: Organization, keep: bool = True) -> None:
    Organization.objects.filter(pk=organization.pk).update(store_request_text=keep)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """A gateway process of this module's own; every test waits for its usage."""
    server = start_gateway(tmp_path_factory.mktemp("gateway") / "gateway.log")
    yield server
    stop(server)


@pytest.fixture(scope="module")
def upstream():
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def tenant(upstream):
    base_url = upstream.base_url + "/v1"
    tenant = make_tenant(upstream_url=base_url)
    add_credential(tenant.organization, "anthropic", base_url, "sk-ant-test-0000")
    return tenant


def send(server, key: str, path: str, payload: dict) -> tuple[UsageRecord, bytes]:
    """Make one call and return its usage record, once written, and the body."""
    request_id = new_request_id()
    headers = {"authorization": f"Bearer {key}", "x-request-id": request_id}
    with httpx.Client(base_url=server.v1, timeout=10, trust_env=False) as http:
        with http.stream("POST", path, json=payload, headers=headers) as response:
            body = response.read()
            assert response.status_code == 200, body
    return wait_for_usage(request_id=request_id), body


def calls(canary: str) -> list[tuple[str, dict]]:
    said = [{"role": "user", "content": f"remember {canary}"}]
    return [
        ("/chat/completions", {"model": "openai/fake-chat", "messages": said}),
        (
            "/chat/completions",
            {"model": "openai/fake-chat", "messages": said, "stream": True},
        ),
        (
            "/messages",
            {
                "model": "anthropic/fake-chat",
                "max_tokens": 64,
                "system": "be brief",
                "messages": said,
                "stream": True,
            },
        ),
        ("/embeddings", {"model": "openai/fake-embedding", "input": canary}),
    ]


def assert_nowhere_in_the_database(needle: str) -> None:
    for table, value in database_cells():
        for text in cell_texts(value):
            assert not leaks(needle, text), f"request text in table {table}"


def test_with_the_setting_off_no_text_reaches_the_database(server, tenant):
    canary = "canary-" + secrets.token_hex(12)

    records = [send(server, tenant.key, *call)[0] for call in calls(canary)]

    assert all(record.text_ciphertext is None for record in records)
    assert_nowhere_in_the_database(canary)


def test_with_the_setting_on_text_is_sealed_and_reads_back_until_deletion(
    server, tenant
):
    keep_text(tenant.organization)
    canary = "canary-" + secrets.token_hex(12)

    sent = [send(server, tenant.key, *call) for call in calls(canary)]

    assert_nowhere_in_the_database(canary)
    texts = [usage_text_read(usage=record) for record, _ in sent]
    for text in texts:
        assert canary in text["request"]
        assert text["truncated"] is False
    chat, stream, messages, embedding = texts
    assert chat["completion"] == f"echo: remember {canary}"
    assert stream["completion"] == f"echo: remember {canary}"
    assert f"remember {canary}" in messages["completion"]
    assert "be brief" in messages["request"]
    assert embedding["completion"] == ""
    with tenant_context(tenant.organization):
        viewed = AuditEvent.objects.filter(action=content.READ_ACTION).count()
    assert viewed == len(sent)

    organization_delete(tenant.organization)

    with platform_context():
        record = UsageRecord.objects.get(pk=sent[0][0].pk)
    assert record.text_ciphertext is not None
    with pytest.raises(crypto.CryptoError):
        usage_text_read(usage=record)


def pending(tenant, text: dict | None, request_id: str = "req-1") -> UsageRecord:
    record = UsageRecord(
        organization=tenant.organization,
        project=tenant.project,
        api_key=tenant.api_key,
        request_id=request_id,
        endpoint="chat/completions",
        status_code=200,
        created_at=timezone.now(),
    )
    record.pending_text = text
    return record


def stored(record: UsageRecord) -> UsageRecord:
    with platform_context():
        return UsageRecord.objects.get(request_id=record.request_id)


TEXT = {"request": '{"messages":[]}', "completion": "hello", "truncated": False}


def test_text_captured_before_the_setting_went_off_is_not_written():
    tenant = make_tenant()
    record = pending(tenant, TEXT)

    write_batch([record])

    assert stored(record).text_ciphertext is None


def test_a_deleted_organisation_s_pending_text_is_dropped_not_its_usage():
    tenant = make_tenant()
    keep_text(tenant.organization)
    organization_delete(tenant.organization)
    record = pending(tenant, TEXT)

    write_batch([record])

    assert stored(record).text_ciphertext is None


def test_a_sealed_text_opens_only_on_its_own_record():
    tenant = make_tenant()
    keep_text(tenant.organization)
    first, second = pending(tenant, TEXT, "req-1"), pending(tenant, None, "req-2")
    write_batch([first, second])
    first, second = stored(first), stored(second)
    assert usage_text_read(usage=first) == TEXT
    assert usage_text_read(usage=second) is None

    second.text_ciphertext = first.text_ciphertext

    with pytest.raises(crypto.CryptoError):
        usage_text_read(usage=second)


def test_rotating_the_data_key_keeps_stored_text_readable():
    tenant = make_tenant()
    keep_text(tenant.organization)
    record = pending(tenant, TEXT, "req-rotated")
    write_batch([record])
    before = bytes(stored(record).text_ciphertext)

    organization_key_rotate(organization=tenant.organization)

    after = stored(record)
    assert bytes(after.text_ciphertext) != before
    assert usage_text_read(usage=after) == TEXT


def test_a_record_without_text_is_read_without_an_audit_record():
    tenant = make_tenant()
    record = pending(tenant, None)
    write_batch([record])

    assert usage_text_read(usage=stored(record)) is None
    with tenant_context(tenant.organization):
        assert not AuditEvent.objects.filter(action=content.READ_ACTION).exists()


def test_the_setting_is_read_once_per_cache_interval(monkeypatch):
    loads = []
    monkeypatch.setattr(content, "_load_setting", lambda org: loads.append(org) or True)
    content.forget_settings()

    async def twice() -> list[TextCapture | None]:
        body = {"messages": [{"role": "user", "content": "hi"}]}
        return [await content.capture_for(7, body), await content.capture_for(7, body)]

    captures = asyncio.run(twice())
    content.forget_settings()

    assert loads == [7]
    assert all(isinstance(capture, TextCapture) for capture in captures)


@pytest.mark.django_db(transaction=False)
class TestCapture:
    def test_stream_deltas_are_joined_per_choice(self):
        capture = TextCapture({"messages": [{"role": "user", "content": "x"}]})
        encode = capture.tap(lambda item: b"")
        for index, piece in [(0, "Hel"), (1, "Bon"), (0, "lo"), (1, "jour")]:
            encode({"choices": [{"index": index, "delta": {"content": piece}}]})
        encode({"choices": [], "usage": {"prompt_tokens": 1}})

        assert capture.payload()["completion"] == "Hello\n\nBonjour"

    def test_anthropic_text_deltas_are_captured(self):
        capture = TextCapture({"messages": []})
        events = [
            ("message_start", {"type": "message_start"}),
            ("content_block_delta", {"delta": {"type": "text_delta", "text": "Hi"}}),
            ("content_block_delta", {"delta": {"type": "input_json_delta"}}),
            ("content_block_delta", {"delta": {"type": "text_delta", "text": "!"}}),
        ]
        for event in events:
            capture.stream_item(event)

        assert capture.payload()["completion"] == "Hi!"

    def test_a_long_exchange_is_cut_to_the_limit_and_says_so(self):
        capture = TextCapture({"messages": [{"role": "user", "content": "q" * 10**6}]})
        for _ in range(100):
            capture.add(0, "é" * 5000)

        text = capture.payload()
        size = len(text["request"].encode()) + len(text["completion"].encode())
        assert size <= MAX_CAPTURE_BYTES
        assert len(text["completion"].encode()) >= MAX_CAPTURE_BYTES // 2 - 1
        assert text["truncated"] is True

    def test_a_short_exchange_is_kept_whole(self):
        capture = TextCapture({"input": ["a", "b"], "model": "m"})
        capture.reply({"choices": [{"index": 0, "message": {"content": "ok"}}]})

        assert capture.payload() == {
            "request": '{"input":["a","b"]}',
            "completion": "ok",
            "truncated": False,
        }
