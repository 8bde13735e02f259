"""Secrets from Azure Key Vault, against a fake of its REST API on 127.0.0.1.

The official client insists on https, so the fake serves TLS with a
certificate for 127.0.0.1 generated here and trusted through
``connection_verify``. It answers the first request with Key Vault's bearer
challenge, as the service does; a static credential hands out a fixed token,
so no Azure AD host or metadata endpoint is ever asked. The challenge names
Key Vault's real resource, which does not match 127.0.0.1, so the tests turn
the client's resource check off.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway_project.env import ConfigError
from gateway_project.secret_sources import SecretStore
from gateway_project.secret_sources.azure import AzureKeyVaultSource
from gateway_project.secrets import MasterKeyring
from gateway_project.tests.serving import serving
from gateway_project.tests.test_secrets_aws import KEY_A, KEY_B, wait_for_active_key
from providers import crypto

TOKEN = "fake-azure-token"
SECRET = re.compile(r"^/secrets/([0-9A-Za-z-]+)/?$")


class StaticCredential:
    """A token credential that never asks Azure AD."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: object):
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(TOKEN, int(time.time()) + 3600)


class FakeKeyVault(ThreadingHTTPServer):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.secrets: dict[str, str] = {}
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeKeyVault

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        self.server.requests.append(path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                'Bearer authorization="https://login.microsoftonline.com/'
                '00000000-0000-0000-0000-000000000000", '
                'resource="https://vault.azure.net"',
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        match = SECRET.match(path)
        name = match.group(1) if match else ""
        if name not in self.server.secrets:
            error = {"code": "SecretNotFound", "message": f"{name} not found"}
            self.reply(404, {"error": error})
            return
        self.reply(
            200,
            {
                "value": self.server.secrets[name],
                "id": f"{self.server.url}/secrets/{name}/0123456789abcdef",
                "attributes": {"enabled": True},
            },
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


def self_signed_certificate(directory) -> tuple[str, str]:
    """Write a certificate for 127.0.0.1 and its key; return both paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("azure-tls"))


@pytest.fixture(scope="module")
def fake(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with serving(FakeKeyVault(context)) as server:
        yield server


@pytest.fixture
def prefix(request):
    return "warden-" + re.sub(r"[^0-9A-Za-z]", "-", request.node.name[:40]) + "-"


def make_source(url: str, certificate, prefix: str = "warden-"):
    return AzureKeyVaultSource(
        vault_url=url,
        credential=StaticCredential(),
        prefix=prefix,
        connection_verify=certificate[0],
        verify_challenge_resource=False,
    )


@pytest.fixture
def source(fake, certificate, prefix):
    return make_source(fake.url, certificate, prefix)


def test_secret_is_read_by_its_mapped_name(fake, certificate, prefix):
    credential = StaticCredential()
    source = AzureKeyVaultSource(
        vault_url=fake.url,
        credential=credential,
        prefix=prefix,
        connection_verify=certificate[0],
        verify_challenge_resource=False,
    )
    fake.secrets[prefix + "AUTH-SECRET"] = "s3cret"
    assert SecretStore(source, ttl=60).get("AUTH_SECRET") == "s3cret"
    assert fake.requests[-1].rstrip("/") == f"/secrets/{prefix}AUTH-SECRET"
    # The token was asked for after Key Vault's challenge, for its resource.
    assert credential.scopes == [("https://vault.azure.net/.default",)]


def test_master_keys_maps_to_hyphens_under_the_default_prefix(fake, certificate):
    fake.secrets["warden-MASTER-KEYS"] = KEY_A
    source = make_source(fake.url, certificate)
    assert source.fetch("MASTER_KEYS") == KEY_A


def test_missing_secret_names_the_secret_and_the_source(source, fake, prefix):
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("MASTER_KEYS")
    assert str(excinfo.value) == (
        f"MASTER_KEYS is not set in Azure Key Vault {fake.url} "
        f"(secret '{prefix}MASTER-KEYS')"
    )


def test_unreachable_endpoint_is_a_configuration_error(certificate):
    source = make_source("https://127.0.0.1:9", certificate)
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("AUTH_SECRET")
    message = str(excinfo.value)
    assert message.startswith("AUTH_SECRET cannot be read from Azure Key Vault")
    assert message.endswith(": ServiceRequestError")


def test_untrusted_certificate_is_refused(fake, prefix):
    fake.secrets[prefix + "AUTH-SECRET"] = "do-not-print"
    source = AzureKeyVaultSource(
        vault_url=fake.url,
        credential=StaticCredential(),
        prefix=prefix,
        verify_challenge_resource=False,
    )
    with pytest.raises(ConfigError) as excinfo:
        SecretStore(source, ttl=60).get("AUTH_SECRET")
    assert "do-not-print" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("url", "prefix", "match"),
    [
        ("", "warden-", "SECRETS_AZURE_VAULT_URL"),
        ("http://127.0.0.1:9", "warden-", "https://"),
        ("https://127.0.0.1:9", "warden_", "SECRETS_AZURE_PREFIX"),
    ],
)
def test_bad_settings_are_configuration_errors(url, prefix, match):
    with pytest.raises(ConfigError, match=match):
        AzureKeyVaultSource(vault_url=url, prefix=prefix, credential=StaticCredential())


def test_rotated_master_keys_are_used_after_the_cache_time(
    source, fake, prefix, settings
):
    fake.secrets[prefix + "MASTER-KEYS"] = KEY_A
    store = SecretStore(source, ttl=0.2)
    settings.MASTER_KEYS = MasterKeyring(
        store.get("MASTER_KEYS"), current=lambda: store.lookup("MASTER_KEYS")
    )
    old_id, wrapped = crypto.wrap(b"\x05" * 32, 7)
    assert old_id == "a"

    fake.secrets[prefix + "MASTER-KEYS"] = f"{KEY_B},{KEY_A}"
    time.sleep(0.3)
    assert wait_for_active_key("b")
    assert crypto.wrap(b"\x06" * 32, 7)[0] == "b"
    assert crypto.unwrap(old_id, wrapped, 7) == b"\x05" * 32


def test_backend_azure_is_configured_from_the_environment(monkeypatch):
    import azure.identity

    from gateway_project import secret_sources

    # DefaultAzureCredential would look for managed identity; it is replaced
    # before it is built, and nothing is fetched here.
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", StaticCredential)
    monkeypatch.setenv("SECRETS_BACKEND", "azure")
    monkeypatch.setenv("SECRETS_AZURE_VAULT_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("SECRETS_AZURE_PREFIX", "gw-")
    source = secret_sources.configured_source()
    assert isinstance(source, AzureKeyVaultSource)
    assert "'gw-DATABASE-PASSWORD'" in source.describe("DATABASE_PASSWORD")
