"""The gateway serving https itself: gunicorn as ``make run`` starts it, with
TLS_CERT_FILE and TLS_KEY_FILE, production settings, and clients that verify
the certificate against a CA made for the test."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys

import httpx
import openai
import pytest

from gateway_project.tests.certificates import TestCA
from tests.conftest import ROOT, start_served_gateway, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("serving-ca"))


@pytest.fixture
def tls_gateway(ca, tmp_path, django_db_setup):
    files = ca.server("gateway")
    server = start_served_gateway(
        tmp_path / "gateway.log",
        verify=ca.client_context(),
        TLS_CERT_FILE=str(files.cert),
        TLS_KEY_FILE=str(files.key),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
    )
    yield server
    stop(server)


def test_the_openai_sdk_reaches_v1_over_verified_tls(tls_gateway, tenant, ca):
    http_client = httpx.Client(verify=ca.client_context())
    client = openai.OpenAI(
        base_url=tls_gateway.v1,
        api_key=tenant.key,
        max_retries=0,
        http_client=http_client,
    )

    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "hello over https"}],
    )

    assert completion.choices[0].message.content == "echo: hello over https"
    http_client.close()


def test_health_answers_over_tls_as_a_secure_request(tls_gateway, ca):
    answer = httpx.get(tls_gateway.base_url + "/healthz", verify=ca.client_context())

    assert answer.status_code == 200
    # Django sends HSTS on secure requests only.
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_pages_are_not_redirected_when_served_over_tls(tls_gateway, ca):
    answer = httpx.get(
        tls_gateway.base_url + "/accounts/login/", verify=ca.client_context()
    )

    assert answer.status_code == 200


def test_a_client_that_does_not_trust_the_ca_is_refused(tls_gateway, tmp_path):
    stranger = TestCA(tmp_path, name="stranger")

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(tls_gateway.base_url + "/healthz", verify=stranger.client_context())


def test_plain_http_to_the_tls_port_gets_no_answer(tls_gateway):
    plain_url = tls_gateway.base_url.replace("https://", "http://")

    with pytest.raises(httpx.TransportError):
        httpx.get(plain_url + "/healthz", timeout=5)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_only_tls_1_2_and_newer_are_accepted(tls_gateway, ca):
    port = int(tls_gateway.base_url.rsplit(":", 1)[1])

    assert handshake(ca, port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert handshake(ca, port, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    with pytest.raises(ssl.SSLError) as refused:
        handshake(ca, port, ssl.TLSVersion.TLSv1_1)
    # The server's refusal, not a client unable to offer TLS 1.1 at all.
    assert refused.value.reason != "NO_PROTOCOLS_AVAILABLE", refused.value


def handshake(ca: TestCA, port: int, version: ssl.TLSVersion) -> str | None:
    """Return the version agreed by a client offering ``version`` alone."""
    context = ca.client_context()
    # OpenSSL's default security level forbids TLS 1.1 on the client side.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version()


def test_a_certificate_without_its_key_stops_start_up(ca):
    files = ca.server("half")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config",
         "gateway_project.asgi:application"],
        cwd=ROOT,
        env={"TLS_CERT_FILE": str(files.cert), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip

    assert result.returncode != 0
    assert "set both TLS_CERT_FILE and TLS_KEY_FILE" in result.stderr
