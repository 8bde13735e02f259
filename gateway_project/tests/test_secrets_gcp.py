"""Secrets from Google Secret Manager, against a fake of its REST API on 127.0.0.1.

The client is the official one with its REST transport, pointed at the fake
through ``api_endpoint`` and given anonymous credentials, so no Google host,
token endpoint or metadata server is ever asked.
"""

from __future__ import annotations

import base64
import json
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway_project.env import ConfigError
from gateway_project.secret_sources import SecretStore
from gateway_project.secret_sources.gcp import GoogleSecretManagerSource
from gateway_project.secrets import MasterKeyring
from gateway_project.tests.serving import serving
from gateway_project.tests.test_secrets_aws import KEY_A, KEY_B, wait_for_active_key
from providers import crypto

PROJECT = "warden-test"
GCP_TOKEN = "fake-gcp-token"
ACCESS = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/]+)/versions/latest:access$")


class FakeSecretManager(ThreadingHTTPServer):
    """Answers ``versions/latest:access`` from ``secrets`` (project, id) -> text."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.secrets: dict[tuple[str, str], str] = {}
        self.requests: list[str] = []
        self.authorizations: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeSecretManager

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(self.path)
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        match = ACCESS.match(self.path.split("?")[0])
        value = self.server.secrets.get(match.groups()) if match else None
        if match and match.group(1) == "denied":
            error = {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}
            self.reply(403, {"error": error})
            return
        if value is None:
            self.reply(
                404,
                {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}},
            )
            return
        project, secret = match.groups()
        data = base64.b64encode(value.encode()).decode()
        self.reply(
            200,
            {
                "name": f"projects/{project}/secrets/{secret}/versions/1",
                "payload": {"data": data},
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        # The OAuth token endpoint a service-account key file names.
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/token":
            self.reply(404, {"error": "not_found"})
            return
        self.reply(
            200,
            {"access_token": GCP_TOKEN, "expires_in": 3600, "token_type": "Bearer"},
        )

    def reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake():
    with serving(FakeSecretManager()) as server:
        yield server


@pytest.fixture
def prefix(request):
    return f"warden-{request.node.name[:40]}-"


def anonymous():
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


@pytest.fixture
def source(fake, prefix):
    return GoogleSecretManagerSource(
        project=PROJECT, prefix=prefix, endpoint=fake.endpoint, credentials=anonymous()
    )


def test_secret_is_read_by_its_prefixed_id(source, fake, prefix):
    fake.secrets[PROJECT, prefix + "AUTH_SECRET"] = "s3cret"
    assert SecretStore(source, ttl=60).get("AUTH_SECRET") == "s3cret"
    assert fake.requests[-1].startswith(
        f"/v1/projects/{PROJECT}/secrets/{prefix}AUTH_SECRET/versions/latest:access"
    )


def test_missing_secret_names_the_secret_and_the_source(source, prefix):
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("MASTER_KEYS")
    assert str(excinfo.value) == (
        f"MASTER_KEYS is not set in Google Secret Manager "
        f"('projects/{PROJECT}/secrets/{prefix}MASTER_KEYS/versions/latest')"
    )


def test_refused_read_names_the_failure_not_the_value(fake, prefix):
    fake.secrets["denied", prefix + "AUTH_SECRET"] = "do-not-print"
    source = GoogleSecretManagerSource(
        project="denied", prefix=prefix, endpoint=fake.endpoint, credentials=anonymous()
    )
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("AUTH_SECRET")
    message = str(excinfo.value)
    assert message.startswith("AUTH_SECRET cannot be read from Google Secret Manager")
    assert message.endswith(": Forbidden")
    assert "do-not-print" not in message


def test_unreachable_endpoint_is_a_configuration_error():
    source = GoogleSecretManagerSource(
        project=PROJECT, endpoint="http://127.0.0.1:9", credentials=anonymous()
    )
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("AUTH_SECRET")
    message = str(excinfo.value)
    assert message.startswith("AUTH_SECRET cannot be read from Google Secret Manager")
    assert message.endswith(": ConnectionError")


def test_missing_project_is_a_configuration_error():
    with pytest.raises(ConfigError, match="SECRETS_GCP_PROJECT"):
        GoogleSecretManagerSource(project="", credentials=anonymous())


def test_rotated_master_keys_are_used_after_the_cache_time(
    source, fake, prefix, settings
):
    fake.secrets[PROJECT, prefix + "MASTER_KEYS"] = KEY_A
    store = SecretStore(source, ttl=0.2)
    settings.MASTER_KEYS = MasterKeyring(
        store.get("MASTER_KEYS"), current=lambda: store.lookup("MASTER_KEYS")
    )
    old_id, wrapped = crypto.wrap(b"\x05" * 32, 7)
    assert old_id == "a"

    fake.secrets[PROJECT, prefix + "MASTER_KEYS"] = f"{KEY_B},{KEY_A}"
    time.sleep(0.3)
    assert wait_for_active_key("b")
    assert crypto.wrap(b"\x06" * 32, 7)[0] == "b"
    assert crypto.unwrap(old_id, wrapped, 7) == b"\x05" * 32


def test_backend_gcp_is_configured_from_the_environment(monkeypatch, fake):
    import google.auth

    from gateway_project import secret_sources

    # Application Default Credentials would look for a metadata server;
    # hand the client anonymous ones instead.
    monkeypatch.setattr(google.auth, "default", lambda **_: (anonymous(), None))
    monkeypatch.setenv("SECRETS_BACKEND", "gcp")
    monkeypatch.setenv("SECRETS_GCP_PROJECT", PROJECT)
    monkeypatch.setenv("SECRETS_GCP_ENDPOINT", fake.endpoint)
    fake.secrets[PROJECT, "warden-REDIS_PASSWORD"] = "pw"
    source = secret_sources.configured_source()
    assert isinstance(source, GoogleSecretManagerSource)
    assert source.fetch("REDIS_PASSWORD") == "pw"


def service_account_file(directory, token_uri: str) -> str:
    """Write a service-account key file whose token endpoint is ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = directory / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key",
                "private_key": pem,
                "client_email": f"warden@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return str(path)


def test_gateway_starts_with_every_secret_from_gcp(fake, prefix, tmp_path):
    """The production credential path: a service-account key file.

    Its token endpoint is the fake too, should the client ever ask it.
    """
    from gateway_project.tests.test_env import manage

    fake.secrets[PROJECT, prefix + "AUTH_SECRET"] = "g" * 60
    fake.secrets[PROJECT, prefix + "MASTER_KEYS"] = KEY_A
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s;print(s.MASTER_KEYS[0][0])",
        DEBUG="false",
        ALLOWED_HOSTS="gateway.example",
        WARDEN_DATA_DIR=str(tmp_path),
        HOME=str(tmp_path),
        NO_GCE_CHECK="true",
        GOOGLE_APPLICATION_CREDENTIALS=service_account_file(
            tmp_path, f"{fake.endpoint}/token"
        ),
        SECRETS_BACKEND="gcp",
        SECRETS_GCP_PROJECT=PROJECT,
        SECRETS_GCP_PREFIX=prefix,
        SECRETS_GCP_ENDPOINT=fake.endpoint,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["a"]
    # The client signs its own token (a JWT for the API) rather than asking
    # the token endpoint; either way nothing but the fake is contacted.
    scheme, _, token = fake.authorizations[-1].partition(" ")
    claims = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert (scheme, claims["iss"]) == (
        "Bearer",
        f"warden@{PROJECT}.iam.gserviceaccount.com",
    )
