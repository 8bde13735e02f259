"""Canary provider keys and gateway keys must never leak, whatever happens.

Provider keys are planted both ways they get stored (the ``set_provider_key``
command and the service the web UI uses), pushed through successes, streams,
provider failures and refused callers on a real gateway process, and then
looked for everywhere the gateway writes: responses, its DEBUG log, command
output, every database table and the shared store. Keys planted where the
servers log what a caller sent are found masked in the JSON log.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.db import connection

import httpx
import openai
import pytest
import redis

from accounts.tenancy import platform_context
from gateway_project.logfilters import MASK
from keys import tokens
from providers.models import ProviderCredential
from providers.services import credential_plaintext
from proxy.models import UsageRecord
from tests.conftest import start_gateway, stop
from tests.factories import add_credential, make_tenant

# Services: the revoked-key step needs Redis to reach the gateway process, and
# the Redis keys are searched for canaries too.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

CHAT = [{"role": "user", "content": "hello canary"}]
OPENAI_MODELS = [
    "openai/fake-chat",
    "openai/fake-error-401",
    "openai/fake-error-500",
    "openai/fake-error-429",
    "openai/fake-error-400-context",
    "openai/fake-garbage",
    "openai/fake-drop",
]
ANTHROPIC_MODELS = ["anthropic/fake-chat", "anthropic/fake-error-401"]
STREAM_MODELS = ["fake-chat", "fake-split", "fake-drop-stream", "fake-error-401"]


@dataclass
class Evidence:
    """Everything the gateway and the commands said, to search afterwards."""

    responses: list[tuple[int, str, bytes]] = field(default_factory=list)
    command_output: list[str] = field(default_factory=list)
    authenticated: int = 0

    def record(self, response: httpx.Response, body: bytes) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        self.responses.append((response.status_code, headers, body))


def canary() -> str:
    return "sk-canary-" + secrets.token_hex(20)


def secret_part(gateway_key: str) -> str:
    """The part of a gateway key that is never shown after creation."""
    parsed = tokens.parse(gateway_key)
    assert parsed is not None
    return gateway_key.removeprefix(f"wdn_{parsed.environment}_{parsed.public_id}_")


def command(
    evidence: Evidence, monkeypatch, name: str, *args: str, stdin: str = ""
) -> str:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(name, *args, stdout=out, stderr=err)
    text = out.getvalue() + err.getvalue()
    evidence.command_output.append(text)
    return text


def post(
    client: httpx.Client,
    evidence: Evidence,
    key: str,
    path: str,
    payload: dict,
    stream: bool = False,
) -> int:
    headers = {"authorization": f"Bearer {key}"}
    if stream:
        with client.stream("POST", path, json=payload, headers=headers) as response:
            body = response.read()
    else:
        response = client.post(path, json=payload, headers=headers)
        body = response.content
    evidence.record(response, body)
    return response.status_code


def exercise(client: httpx.Client, evidence: Evidence, key: str) -> None:
    """Successes, streams and every kind of provider failure for one key."""
    for model in OPENAI_MODELS + ANTHROPIC_MODELS:
        chat = {"model": model, "messages": CHAT}
        post(client, evidence, key, "/chat/completions", chat)
        evidence.authenticated += 1
    for model in STREAM_MODELS:
        for provider in ("openai", "anthropic"):
            payload = {"model": f"{provider}/{model}", "messages": CHAT, "stream": True}
            post(client, evidence, key, "/chat/completions", payload, stream=True)
            evidence.authenticated += 1
    embedding = {"model": "openai/fake-embedding", "input": "canary"}
    post(client, evidence, key, "/embeddings", embedding)
    evidence.authenticated += 1
    response = client.get("/models", headers={"authorization": f"Bearer {key}"})
    evidence.record(response, response.content)
    evidence.authenticated += 1


def forged(gateway_key: str) -> str:
    parsed = tokens.parse(gateway_key)
    assert parsed is not None
    body = f"wdn_{parsed.environment}_{parsed.public_id}_" + "Z" * 40
    return body + tokens._checksum(body)


def wait_for_usage(organization_ids: list[int], count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with platform_context():
            done = UsageRecord.objects.filter(
                organization_id__in=organization_ids
            ).count()
        if done >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"expected {count} usage records")


def cell_texts(value: object) -> list[str | bytes]:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return [bytes(value), bytes(value).decode("latin-1")]
    return [str(value), repr(value)]


def database_cells() -> list[tuple[str, object]]:
    cells = []
    quote = connection.ops.quote_name
    # Past row-level security: every tenant's rows are searched.
    with platform_context(), connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608
            for row in cursor.fetchall():
                cells.extend((table, value) for value in row)
    return cells


def store_values() -> list[bytes]:
    if not settings.REDIS_URL:
        return []
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "warden")
    values = []
    try:
        for name in client.scan_iter(match=f"{prefix}*"):
            values.append(name)
            kind = client.type(name)
            if kind == b"string":
                values.append(client.get(name) or b"")
            elif kind == b"hash":
                values.extend(b"".join(pair) for pair in client.hgetall(name).items())
    finally:
        client.close()
    return values


def leaks(needle: str, haystack: str | bytes) -> bool:
    if isinstance(haystack, bytes):
        return needle.encode() in haystack
    return needle in haystack


def test_provider_and_gateway_secrets_never_leak(
    gateway, fake_upstream, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    evidence = Evidence()
    upstream = fake_upstream.base_url + "/v1"
    canaries = [canary() for _ in range(4)]

    # Planted through the service (as the web UI does)...
    by_service = make_tenant(upstream_url=upstream, provider_key=canaries[0])
    add_credential(by_service.organization, "anthropic", upstream, canaries[1])
    # ... and through the command, reading standard input.
    by_command = make_tenant()
    slug = by_command.organization.slug
    for provider, secret in (("openai", canaries[2]), ("anthropic", canaries[3])):
        output = command(
            evidence,
            monkeypatch,
            "set_provider_key",
            "--org",
            slug,
            "--provider",
            provider,
            "--base-url",
            upstream,
            stdin=secret + "\n",
        )
        assert output.strip() == f"stored {provider} key …{secret[-4:]}"
    tenants = [by_service, by_command]
    command(evidence, monkeypatch, "rotate_org_key", "--org", slug)
    command(evidence, monkeypatch, "rotate_master_key")

    payload = {"model": "openai/fake-chat", "messages": CHAT}
    with httpx.Client(base_url=gateway.v1, timeout=10, trust_env=False) as client:
        for tenant in tenants:
            exercise(client, evidence, tenant.key)
            wrong = forged(tenant.key)
            assert post(client, evidence, wrong, "/chat/completions", payload) == 401
        revoked = by_service.key
        command(evidence, monkeypatch, "revoke_api_key", by_service.api_key.public_id)
        for stream in (False, True):
            body = dict(payload, stream=stream)
            status = post(client, evidence, revoked, "/chat/completions", body, stream)
            assert status == 401

    organization_ids = [tenant.organization.pk for tenant in tenants]
    wait_for_usage(organization_ids, evidence.authenticated)

    # The run did what it should, so finding nothing below means something.
    statuses = [status for status, _, _ in evidence.responses]
    assert statuses.count(200) >= 2 * (2 + len(STREAM_MODELS) * 2)
    assert {401, 429, 502} <= set(statuses)
    sent = [
        request.headers.get("authorization", "") + request.headers.get("x-api-key", "")
        for request in fake_upstream.requests
    ]
    for secret in canaries:
        assert any(secret in value for value in sent), "the upstream never got it"
    with platform_context():
        stored = list(
            ProviderCredential.objects.filter(organization_id__in=organization_ids)
        )
    assert len(stored) == 4
    assert {credential_plaintext(row) for row in stored} == set(canaries)

    # What must never be seen: each provider key, and the secret part of each
    # gateway key. The last four characters are a deliberate, stored hint.
    needles = {f"provider key {i}": secret[:-4] for i, secret in enumerate(canaries)}
    needles |= {
        f"gateway key {i}": secret_part(tenant.key)[:-4]
        for i, tenant in enumerate(tenants)
    }
    log = gateway.log_text()
    assert "HTTP Request" in log or "chat/completions" in log  # it is logging
    cells = database_cells()
    store = store_values()
    for label, needle in needles.items():
        for status, headers, body in evidence.responses:
            assert not leaks(needle, headers), f"{label} in headers of a {status}"
            assert not leaks(needle, body), f"{label} in body of a {status}"
        assert not leaks(needle, log), f"{label} in the gateway log"
        assert not leaks(needle, caplog.text), f"{label} in this process's log"
        for table, value in cells:
            for text in cell_texts(value):
                assert not leaks(needle, text), f"{label} in table {table}"
        for value in store:
            assert not leaks(needle, value), f"{label} in the shared store"
        for output in evidence.command_output:
            assert not leaks(needle, output), f"{label} in command output"


def test_json_logs_name_each_request_and_mask_keys_planted_in_them(
    tmp_path, fake_upstream
):
    provider_key = canary()
    tenant = make_tenant(
        upstream_url=fake_upstream.base_url + "/v1", provider_key=provider_key
    )
    gateway_secret = secret_part(tenant.key)
    request_id = "canary-run-" + secrets.token_hex(8)
    server = start_gateway(tmp_path / "json.log", LOG_FORMAT="json")
    try:
        sdk = openai.OpenAI(
            base_url=server.v1,
            api_key=tenant.key,
            max_retries=0,
            default_headers={"x-request-id": request_id},
        )
        answer = sdk.chat.completions.with_raw_response.create(
            model="openai/fake-chat", messages=CHAT
        )
        assert answer.headers["x-request-id"] == request_id

        # Keys planted where the servers log what the caller sent: the address
        # (access lines, Django's "Not Found"), the Host header, the request id.
        with httpx.Client(base_url=server.base_url, trust_env=False) as http:
            bearer = {"authorization": f"Bearer {tenant.key}"}
            for key in (provider_key, tenant.key):
                given = http.get("/v1/models", headers={**bearer, "x-request-id": key})
                assert given.status_code == 200
                assert given.headers["x-request-id"] != key
                assert http.get(f"/v1/models?api_key={key}").status_code == 400
                assert http.get(f"/nowhere/{key}/").status_code == 404
                assert http.get("/healthz", headers={"host": key}).status_code == 400
            site = http.get("/healthz", headers={"x-request-id": request_id + "-site"})
            assert site.headers["x-request-id"] == request_id + "-site"
    finally:
        stop(server)

    log = server.log_text()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    # Lines logged before the key was checked name the request only.
    ours = [line for line in lines if line.get("request_id") == request_id]
    named = [line for line in ours if "key" in line]
    assert named, "no line names the caller"
    for line in named:
        assert line["organization"] == tenant.organization.pk
        assert line["project"] == tenant.project.pk
        assert line["key"] == tenant.api_key.public_id
    assert any(line.get("request_id") == request_id + "-site" for line in lines)
    assert "Not Found: /nowhere/" + MASK in log  # planted, logged, masked
    for needle in (provider_key[:-4], gateway_secret[:-4], "hello canary"):
        assert needle not in log
