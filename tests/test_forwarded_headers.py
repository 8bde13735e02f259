"""Behind a TLS-terminating proxy: X-Forwarded-Proto and X-Forwarded-For are
believed from TRUSTED_PROXIES only, for the pages and for /v1.

Every client here is 127.0.0.1, so two production-configured gateways stand
for the two cases: one whose trusted proxy is 127.0.0.1 (the test plays the
proxy) and one whose proxy lives elsewhere (the test is a direct client).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from gateway_project.tests.test_env import assert_one_line_error, manage
from keys import tokens
from tests.conftest import start_served_gateway, stop

pytestmark = pytest.mark.django_db(transaction=True)

AS_PROXY = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}


def production_gateway(log_path, trusted: str):
    return start_served_gateway(
        log_path,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        TRUST_X_FORWARDED_PROTO="true",
        TRUSTED_PROXIES=trusted,
        CACHE_KEY_PREFIX=f"warden-forwarded-{uuid.uuid4().hex}",
    )


@pytest.fixture
def behind_proxy(tmp_path, django_db_setup):
    server = production_gateway(tmp_path / "proxied.log", "127.0.0.1/32")
    yield server
    stop(server)


@pytest.fixture
def direct(tmp_path, django_db_setup):
    server = production_gateway(tmp_path / "direct.log", "10.0.0.0/8")
    yield server
    stop(server)


def get(server, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(server.base_url + path, headers=headers, timeout=10)


def test_a_trusted_proxy_saying_https_is_believed(behind_proxy):
    answer = get(behind_proxy, "/accounts/login/", AS_PROXY)

    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_a_direct_client_claiming_https_is_still_redirected(direct):
    answer = get(direct, "/accounts/login/", AS_PROXY)

    assert answer.status_code == 301
    assert (
        answer.headers["location"]
        == direct.base_url.replace("http://", "https://") + "/accounts/login/"
    )
    assert "strict-transport-security" not in answer.headers


def test_plain_http_from_the_proxy_is_redirected(behind_proxy):
    answer = get(behind_proxy, "/accounts/login/", {"x-forwarded-proto": "http"})

    assert answer.status_code == 301


@pytest.mark.parametrize(
    "headers",
    [
        [("x-forwarded-proto", "https, http")],
        [("x-forwarded-proto", "https"), ("x-forwarded-proto", "http")],
    ],
    ids=["appended", "second-header"],
)
def test_the_nearest_proxy_s_proto_counts_not_the_client_s(behind_proxy, headers):
    # The client claimed https; the proxy, appending, said http.
    answer = httpx.get(
        behind_proxy.base_url + "/accounts/login/", headers=headers, timeout=10
    )

    assert answer.status_code == 301


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_over_plain_http_are_not_redirected(direct, path):
    answer = get(direct, path, {})

    assert answer.status_code in (200, 503)
    assert answer.headers["content-type"] == "application/json"


def rejected_key_client(server) -> str:
    """Send an unknown key to /v1 as from 203.0.113.7; return the address logged."""
    key, public_id = tokens.generate("live")
    answer = httpx.get(
        server.v1 + "/models",
        headers={"authorization": f"Bearer {key}", **AS_PROXY},
        timeout=10,
    )
    assert answer.status_code == 401
    logged = re.search(
        rf"api key rejected id={public_id} client=([0-9A-Fa-f.:]+)",
        server.log_text(),
    )
    if logged:
        return logged.group(1)
    raise AssertionError(f"no rejection logged:\n{server.log_text()}")


def test_v1_counts_the_forwarded_client_of_a_trusted_proxy(behind_proxy):
    assert rejected_key_client(behind_proxy) == "203.0.113.7"


def test_v1_counts_a_direct_client_by_its_own_address(direct):
    assert rejected_key_client(direct) == "127.0.0.1"


def test_trusting_x_forwarded_proto_needs_trusted_proxies(tmp_path):
    result = manage(
        "check",
        WARDEN_DATA_DIR=str(tmp_path),
        DEBUG="false",
        AUTH_SECRET="s" * 60,
        MASTER_KEYS="k1:" + "A" * 43 + "=",
        ALLOWED_HOSTS="gateway.example",
        TRUST_X_FORWARDED_PROTO="true",
    )

    assert_one_line_error(result, "TRUSTED_PROXIES")


def test_a_malformed_trusted_proxy_stops_start_up(tmp_path):
    result = manage(
        "check", WARDEN_DATA_DIR=str(tmp_path), TRUSTED_PROXIES="10.0.0.0/8,proxy"
    )

    assert_one_line_error(result, "TRUSTED_PROXIES")
