"""/metrics on a real gunicorn with two workers: counts add up across workers,
only the token's bearer may read them, and they hold no secret or prompt."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from guardrails.services import guardrail_policy_set
from keys.services import api_key_create
from tests.conftest import Gateway, start_gateway, start_served_gateway, stop
from tests.factories import Tenant, make_tenant

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TOKEN = "metrics-" + secrets.token_urlsafe(24)
PROMPT = "tell me about canary-prompt-" + secrets.token_hex(8)
CHAT_OK = "chat/completions", "other", "openai", "200"


@pytest.fixture(scope="module")
def metrics_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("metrics")


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory, metrics_dir):
    """A gateway-role gunicorn with two workers sharing one metrics folder."""
    server = start_served_gateway(
        tmp_path_factory.mktemp("gunicorn") / "gunicorn.log",
        workers=2,
        WARDEN_ROLE="gateway",
        METRICS_TOKEN=TOKEN,
        METRICS_DIR=str(metrics_dir),
        # A stalled stream stays open until the test lets it go.
        UPSTREAM_READ_TIMEOUT="60",
    )
    yield server
    stop(server)


@pytest.fixture
def tenant(fake_upstream) -> Tenant:
    return make_tenant(
        upstream_url=fake_upstream.base_url + "/v1",
        provider_key="sk-canary-" + secrets.token_hex(20),
    )


def sdk(server: Gateway, key: str) -> openai.OpenAI:
    """A client with a connection of its own, so gunicorn may give it any worker."""
    return openai.OpenAI(
        base_url=server.v1,
        api_key=key,
        max_retries=0,
        http_client=httpx.Client(trust_env=False, timeout=30),
    )


def scrape(server: Gateway, token: str | None = TOKEN) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    # A new connection each time: any worker may answer.
    return httpx.get(server.base_url + "/metrics", headers=headers, trust_env=False)


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def requests_of(text: str, labels: tuple[str, ...] = CHAT_OK) -> float:
    endpoint, model, provider, status = labels
    return value(
        text,
        "warden_requests_total",
        endpoint=endpoint,
        model=model,
        provider=provider,
        status=status,
    )


def writers(metrics_dir: Path) -> set[str]:
    """The process ids of the workers that have counted a request."""
    return {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}


def ask(server: Gateway, key: str, model: str = "openai/fake-chat") -> None:
    with sdk(server, key) as client:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPT}]
        )


def test_counts_add_up_across_workers_without_secrets(gunicorn, tenant, metrics_dir):
    before = scrape(gunicorn).text
    sent = 0
    # Until both workers have served some: which one gets a connection is the
    # kernel's choice.
    while sent < 6 or (len(writers(metrics_dir)) < 2 and sent < 200):
        ask(gunicorn, tenant.key)
        sent += 1
    assert len(writers(metrics_dir)) == 2
    with pytest.raises(openai.APIStatusError):
        ask(gunicorn, tenant.key, "openai/fake-error-500")

    for _ in range(4):  # every worker answers with the sum of both
        response = scrape(gunicorn)
        assert response.status_code == 200
        text = response.text
        assert requests_of(text) - requests_of(before) == sent
        served = value(
            text,
            "warden_request_duration_seconds_count",
            endpoint="chat/completions",
            provider="openai",
            status="200",
        )
        served_before = value(
            before,
            "warden_request_duration_seconds_count",
            endpoint="chat/completions",
            provider="openai",
            status="200",
        )
        assert served - served_before == sent
        errors = value(
            text, "warden_upstream_errors_total", provider="openai", kind="error"
        )
        errors_before = value(
            before, "warden_upstream_errors_total", provider="openai", kind="error"
        )
        assert errors - errors_before == 1

    secret = tenant.key.rsplit("_", 1)[1]
    for needle in (PROMPT, "canary-prompt", secret, tenant.api_key.public_id):
        assert needle not in text
    assert "sk-canary-" not in text


def test_refusals_findings_and_open_streams_are_counted(gunicorn, tenant):
    limited = api_key_create(
        project=tenant.project,
        name="limited",
        limits={
            "max_concurrency": 1,
            "allowed_models": ["openai/fake-chat", "openai/fake-stall-stream"],
        },
    )[1]
    guardrail_policy_set(
        organization=tenant.organization, settings={"pii": {"action": "flag"}}
    )
    before = scrape(gunicorn).text

    with sdk(gunicorn, limited) as client:
        stream = client.chat.completions.create(
            model="openai/fake-stall-stream",
            messages=[{"role": "user", "content": "write to alice@example.com"}],
            stream=True,
        )
        next(iter(stream))
        assert value(scrape(gunicorn).text, "warden_active_streams") == 1
        with pytest.raises(openai.RateLimitError):
            ask(gunicorn, limited)
        with pytest.raises(openai.PermissionDeniedError):
            ask(gunicorn, limited, "openai/fake-split")
        stream.close()
    wait_for_no_open_stream(gunicorn)

    text = scrape(gunicorn).text
    for kind in ("concurrency", "model"):
        refused = value(text, "warden_limit_refusals_total", kind=kind)
        refused_before = value(before, "warden_limit_refusals_total", kind=kind)
        assert refused - refused_before == 1, kind
    labels = {"detector": "pii", "action": "flag", "direction": "input"}
    found = value(text, "warden_guardrail_findings_total", **labels)
    found_before = value(before, "warden_guardrail_findings_total", **labels)
    assert found - found_before == 1
    assert "alice@example.com" not in text


def wait_for_no_open_stream(server: Gateway) -> None:
    """The gateway ends a stream once it sees the client gone: soon, not at once."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if value(scrape(server).text, "warden_active_streams") == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the stream still counts as open")


@pytest.mark.parametrize("token", [None, "wrong-" + "x" * 30, TOKEN[:-1]])
def test_metrics_need_the_token(gunicorn, token):
    response = scrape(gunicorn, token)
    assert response.status_code == 401
    assert "warden_" not in response.text


def test_metrics_are_not_served_without_a_token_configured(gateway):
    assert scrape(gateway).status_code == 404


def test_the_api_role_serves_its_metrics_too(tmp_path):
    server = start_gateway(tmp_path / "api.log", WARDEN_ROLE="api", METRICS_TOKEN=TOKEN)
    try:
        response = scrape(server)
        assert scrape(server, None).status_code == 401
    finally:
        stop(server)
    assert response.status_code == 200
    assert "# TYPE warden_requests_total counter" in response.text
