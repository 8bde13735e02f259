"""Start-up with SECRETS_BACKEND=azure, in a real process, against fakes.

One TLS server on 127.0.0.1 plays both Azure AD (the authority's OpenID
configuration and token endpoint, for a service principal) and Key Vault.
The process trusts its certificate through ``REQUESTS_CA_BUNDLE``, and a
``sitecustomize`` refuses, and records, any connection to an address other
than the loopback one, so the test would notice a metadata probe.
"""

from __future__ import annotations

import json
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from gateway_project.tests.serving import serving
from gateway_project.tests.test_env import KEY_A, STRONG_SECRET, manage
from gateway_project.tests.test_secrets_azure import self_signed_certificate

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "66666666-7777-8888-9999-000000000000"
CLIENT_SECRET = "client-secret-of-the-test-principal"
TOKEN = "token-from-the-fake-authority"

GUARD = """\
import os
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _refuse(host):
    with open(os.environ["WARDEN_TEST_GUARD_LOG"], "a") as log:
        log.write(host + "\\n")
    raise OSError("only the loopback address may be reached in this test")


def _checked(address):
    host = str(address[0]) if isinstance(address, tuple) else "127.0.0.1"
    if not (host.startswith("127.") or host == "::1"):
        _refuse(host)


def _guarded_getaddrinfo(host, *args, **kwargs):
    # No name is looked up either: that would ask a DNS server.
    if host not in (None, "localhost", b"localhost"):
        _checked((host.decode() if isinstance(host, bytes) else str(host),))
    return _getaddrinfo(host, *args, **kwargs)


def _guarded_connect(self, address):
    _checked(address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _checked(address)
    return _connect_ex(self, address)


socket.socket.connect, socket.socket.connect_ex = _guarded_connect, _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo
"""


class FakeAzure(ThreadingHTTPServer):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.secrets: dict[str, str] = {}
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeAzure

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0].rstrip("/")
        self.server.requests.append(f"GET {path}")
        if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            base = f"{self.server.url}/{TENANT}"
            self.reply(
                200,
                {
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                },
            )
        elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.challenge()
        elif path.startswith("/secrets/") and path[9:] in self.server.secrets:
            name = path[9:]
            self.reply(
                200,
                {
                    "value": self.server.secrets[name],
                    "id": f"{self.server.url}/secrets/{name}/0123456789abcdef",
                    "attributes": {"enabled": True},
                },
            )
        else:
            self.reply(404, {"error": {"code": "SecretNotFound", "message": path}})

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        self.server.requests.append(f"POST {path}")
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        principal = (form.get("client_id"), form.get("client_secret"))
        if path != f"/{TENANT}/oauth2/v2.0/token" or principal != (
            [CLIENT_ID],
            [CLIENT_SECRET],
        ):
            self.reply(401, {"error": "invalid_client"})
            return
        self.reply(
            200, {"token_type": "Bearer", "expires_in": 3600, "access_token": TOKEN}
        )

    def challenge(self) -> None:
        # Key Vault checks that the vault's host ends with the challenge's
        # resource domain; "0.0.1" plus this port is a suffix of 127.0.0.1's.
        port = self.server.server_address[1]
        self.send_response(401)
        self.send_header(
            "WWW-Authenticate",
            f'Bearer authorization="{self.server.url}/{TENANT}", '
            f'resource="https://0.0.1:{port}"',
        )
        self.send_header("Content-Length", "0")
        self.end_headers()

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
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("azure-startup-tls"))


@pytest.fixture
def fake(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with serving(FakeAzure(context)) as server:
        yield server


def start(tmp_path: Path, fake: FakeAzure, certificate: tuple[str, str]):
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    (tmp_path / "client_secret").write_text(CLIENT_SECRET)
    return manage(
        "check",
        DEBUG="false",
        ALLOWED_HOSTS="warden.example",
        WARDEN_DATA_DIR=str(tmp_path / "data"),
        SECRETS_BACKEND="azure",
        SECRETS_AZURE_VAULT_URL=fake.url,
        AZURE_TENANT_ID=TENANT,
        AZURE_CLIENT_ID=CLIENT_ID,
        AZURE_CLIENT_SECRET_FILE=str(tmp_path / "client_secret"),
        AZURE_AUTHORITY_HOST=fake.url,
        REQUESTS_CA_BUNDLE=certificate[0],
        PYTHONPATH=str(guard),
        WARDEN_TEST_GUARD_LOG=str(tmp_path / "refused"),
    )


def test_start_reads_its_secrets_from_key_vault(tmp_path, fake, certificate):
    fake.secrets["warden-AUTH-SECRET"] = STRONG_SECRET
    fake.secrets["warden-MASTER-KEYS"] = "k1:" + KEY_A
    result = start(tmp_path, fake, certificate)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert f"POST /{TENANT}/oauth2/v2.0/token" in fake.requests
    assert "GET /secrets/warden-AUTH-SECRET" in fake.requests
    assert "GET /secrets/warden-MASTER-KEYS" in fake.requests
    assert not (tmp_path / "refused").exists()


def test_missing_secret_stops_the_start_naming_it_and_the_vault(
    tmp_path, fake, certificate
):
    fake.secrets["warden-AUTH-SECRET"] = STRONG_SECRET
    result = start(tmp_path, fake, certificate)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"warden: configuration error: MASTER_KEYS is not set in Azure Key Vault "
        f"{fake.url} (secret 'warden-MASTER-KEYS'); it is required when DEBUG is off"
    )
    for value in (STRONG_SECRET, CLIENT_SECRET, TOKEN):
        assert value not in result.stderr + result.stdout
    assert not (tmp_path / "refused").exists()


def test_service_principal_replaces_the_default_credential_chain(monkeypatch):
    import azure.identity

    from gateway_project import secret_sources

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", lambda: "default")
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_AUTHORITY_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AZURE_CLIENT_SECRET_FILE", raising=False)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CLIENT_SECRET)
    assert secret_sources.azure_credential() == "default"

    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
    credential = secret_sources.azure_credential()
    assert isinstance(credential, azure.identity.ClientSecretCredential)
