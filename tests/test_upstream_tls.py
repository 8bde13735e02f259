"""Provider calls verify certificates: an untrusted one is a clean 502, a
private CA is trusted only through UPSTREAM_CA_FILE, and host names count."""

from __future__ import annotations

import openai
import pytest

from gateway_project.tests.certificates import TestCA, server_context
from gateway_project.tests.test_env import assert_one_line_error, manage
from tests.conftest import start_gateway, stop
from tests.factories import make_tenant
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER_KEY = "sk-tls-provider-key-7f3a9c"
HELLO = [{"role": "user", "content": "hello over tls"}]


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("upstream-ca"))


@pytest.fixture(scope="module")
def tls_upstream(ca):
    """The fake provider over https, with a certificate for 127.0.0.1."""
    with FakeUpstream(ssl=server_context(ca.server("provider"))) as upstream:
        yield upstream


@pytest.fixture
def trusting_gateway(ca, tmp_path):
    server = start_gateway(tmp_path / "gateway.log", UPSTREAM_CA_FILE=str(ca.cert_file))
    yield server
    stop(server)


def sdk(gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.v1, api_key=key, max_retries=0)


def test_a_provider_certificate_from_an_unknown_ca_is_a_502(gateway, tls_upstream):
    tenant = make_tenant(
        upstream_url=tls_upstream.base_url + "/v1", provider_key=PROVIDER_KEY
    )
    tls_upstream.clear()

    with pytest.raises(openai.APIStatusError) as raised:
        sdk(gateway, tenant.key).chat.completions.create(
            model="openai/gpt-4o-mini", messages=HELLO
        )

    answer = raised.value.response
    assert answer.status_code == 502
    assert answer.json() == {
        "error": {
            "message": "The provider's TLS certificate could not be verified.",
            "type": "upstream_error",
            "param": None,
            "code": "upstream_certificate_invalid",
        }
    }
    assert tls_upstream.requests == []  # nothing was sent before the handshake
    for secret in (PROVIDER_KEY, tenant.key):
        assert secret not in answer.text
        assert secret not in gateway.log_text()
    assert "certificate verify failed" in gateway.log_text()


def test_a_provider_signed_by_the_upstream_ca_file_is_reached(
    trusting_gateway, tls_upstream
):
    tenant = make_tenant(
        upstream_url=tls_upstream.base_url + "/v1", provider_key=PROVIDER_KEY
    )

    completion = sdk(trusting_gateway, tenant.key).chat.completions.create(
        model="openai/gpt-4o-mini", messages=HELLO
    )

    assert completion.choices[0].message.content == "echo: hello over tls"
    sent = tls_upstream.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_KEY}"


def test_a_trusted_certificate_for_another_name_is_refused(trusting_gateway, ca):
    # Signed by the CA the gateway trusts, but not for 127.0.0.1.
    elsewhere = server_context(ca.server("elsewhere", names=("provider.example",)))
    with FakeUpstream(ssl=elsewhere) as upstream:
        tenant = make_tenant(upstream_url=upstream.base_url + "/v1")

        with pytest.raises(openai.APIStatusError) as raised:
            sdk(trusting_gateway, tenant.key).chat.completions.create(
                model="openai/gpt-4o-mini", messages=HELLO
            )

        assert raised.value.status_code == 502
        assert raised.value.body["code"] == "upstream_certificate_invalid"
        assert upstream.requests == []


def test_an_unreadable_upstream_ca_file_stops_start_up(tmp_path):
    result = manage(
        "check",
        WARDEN_DATA_DIR=str(tmp_path),
        UPSTREAM_CA_FILE=str(tmp_path / "missing.pem"),
    )

    assert_one_line_error(result, "UPSTREAM_CA_FILE")


def test_an_upstream_ca_file_without_certificates_stops_start_up(tmp_path):
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("this is not a certificate\n")

    result = manage(
        "check", WARDEN_DATA_DIR=str(tmp_path), UPSTREAM_CA_FILE=str(not_pem)
    )

    assert_one_line_error(result, "UPSTREAM_CA_FILE")
