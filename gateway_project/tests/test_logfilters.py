"""Secret-bearing links leave no secret in the logs, refusals no traceback, and
anything shaped like a key is masked wherever a line carries it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets

import pytest

from accounts.tests.conftest import join, mailed_invitation, organization, person
from gateway_project import logcontext
from gateway_project.logfilters import (
    MASK,
    KeyMaskFilter,
    SecretPathFilter,
    looks_secret,
    mask_secrets,
)
from gateway_project.logformat import ContextFilter, JsonFormatter
from keys import tokens

pytestmark = pytest.mark.django_db


def test_an_invitation_link_refused_is_logged_without_its_token(
    client, caplog, django_capture_on_commit_callbacks
):
    org = organization("acme")
    owner, stranger = person("olivia"), person("sam")
    join(org, owner, "owner")
    path = mailed_invitation(
        org, owner, "right@example.test", django_capture_on_commit_callbacks
    )
    token = path.rstrip("/").rsplit("/", 1)[1]
    client.force_login(stranger)

    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, SecretPathFilter) for f in h.filters)
    )
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(path).status_code == 400
    formatted = " ".join(handler.format(r) for r in caplog.records if handler.filter(r))

    assert "Bad Request" in formatted
    assert token not in formatted
    assert "Traceback" not in formatted


def configured_handler() -> logging.Handler:
    """The handler the settings give the root logger."""
    return next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, KeyMaskFilter) for f in h.filters)
    )


def written(message: str, *args: object, exc: BaseException | None = None) -> str:
    """What the configured handler writes for an ERROR record."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.getLogger("tests.canary").makeRecord(
        "tests.canary", logging.ERROR, __file__, 1, message, args, exc_info
    )
    handler = configured_handler()
    assert handler.filter(record)
    return handler.format(record)


def raised(message: str) -> BaseException:
    try:
        raise ValueError(message)
    except ValueError as exc:
        return exc


def random_part(size: int = 32) -> str:
    return secrets.token_urlsafe(size).replace("-", "A").replace("_", "b")


CANARIES = {
    "gateway key": lambda: tokens.generate("live")[0],
    "management token": lambda: f"wmt_{secrets.token_hex(8)}_{random_part()}",
    "openai key": lambda: "sk-proj-" + random_part(40),
    "anthropic key": lambda: f"sk-ant-api03-{random_part(70)}AA",
    "aws key id": lambda: (
        "AKIA" + "".join(secrets.choice("ABCDEFXYZ234567") for _ in range(16))
    ),
    "github token": lambda: "ghp_" + random_part(27)[:36],
    "github fine-grained": lambda: "github_pat_11" + random_part(40),
    "slack token": lambda: "xoxb-" + secrets.token_hex(12),
    "bearer value": lambda: "Bearer " + secrets.token_hex(6) + "x",
    "random token": lambda: random_part(),
    "hex token": lambda: secrets.token_hex(24),
    "private key": lambda: (
        "-----BEGIN PRIVATE KEY-----\n"
        + random_part(48)
        + "\n-----END PRIVATE KEY-----"
    ),
}


@pytest.mark.parametrize("kind", CANARIES)
def test_every_key_shape_is_masked_in_message_arguments_and_tracebacks(kind):
    canary = CANARIES[kind]()
    secret = canary.removeprefix("Bearer ")
    lines = [
        written("provider said %s", canary),
        written(f"calling with {canary} failed"),
        written("call failed", exc=raised(f"upstream refused {canary}")),
        written("config: %r", {"token": canary}),
    ]
    for line in lines:
        assert secret not in line
        assert MASK in line


def test_a_gateway_key_keeps_its_public_id():
    key, public_id = tokens.generate("test")
    line = written("revoked %s", key)
    assert f"wdn_test_{public_id}_{MASK}" in line


@pytest.mark.parametrize(
    "line",
    [
        "GET /orgs/acme-corp/usage/2026Report/abcdefghijklmnopqrstuvwx 200",
        "usage record dropped request_id=test-0123456789abcdef0123456789abcdef",
        "job 550e8400-e29b-41d4-a716-446655440000 done",
        'File "/srv/app/lib/python3.11/site-packages/django/core/handlers/base.py"',
        "the token verification failed for key le327cwvqjjp8vpi",
    ],
)
def test_ordinary_lines_are_left_as_they_are(line):
    assert mask_secrets(line) == line


def test_a_key_shaped_request_id_is_replaced_by_a_new_one():
    assert logcontext.request_id("req-from-client.1") == "req-from-client.1"
    key = tokens.generate("live")[0]
    replaced = logcontext.request_id(key)
    assert replaced != key
    assert not looks_secret(replaced)


def test_json_lines_carry_the_request_and_its_caller():
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(ContextFilter())
    handler.addFilter(KeyMaskFilter())
    handler.setFormatter(JsonFormatter())
    canary = "sk-canary-" + secrets.token_hex(20)

    async def request() -> None:
        logcontext.bind("req-1")
        logcontext.identify(organization=7, project=9, key="le327cwvqjjp8vpi")
        logger.addHandler(handler)
        try:
            logger.error("upstream failed", exc_info=raised(canary))
        finally:
            logger.removeHandler(handler)

    logger = logging.getLogger("tests.json")
    outside = logcontext.current()
    asyncio.run(request())
    line = json.loads(handler.stream.getvalue())

    assert line["request_id"] == "req-1"
    assert (line["organization"], line["project"]) == (7, 9)
    assert line["key"] == "le327cwvqjjp8vpi"
    assert line["message"] == "upstream failed"
    assert canary not in line["exception"] and MASK in line["exception"]
    assert logcontext.current() is outside  # bound for the request only


def test_a_generated_secret_in_a_url_path_is_masked():
    secret = secrets.token_urlsafe(32)
    while not looks_secret(secret):  # one in many is all letters of one case
        secret = secrets.token_urlsafe(32)
    line = f"Not Found: /x/{secret}"
    plain = "Not Found: /api/v1/orgs/acme-corporation/provider-keys/12/test"

    assert secret not in mask_secrets(line)
    assert mask_secrets(plain) == plain
