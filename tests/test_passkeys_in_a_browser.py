"""Passkeys in a real headless Chromium with its virtual authenticator.

The page is opened at http://localhost (a secure context, and the relying
party the gateway is set to), against a real server process.
"""

from __future__ import annotations

import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import (
    Protocol,
    Transport,
    VirtualAuthenticatorOptions,
)

from tests.browser import chromium
from tests.conftest import start_gateway, stop
from tests.test_pages_in_a_browser import settled, text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

CODE = re.compile(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", re.MULTILINE)


@pytest.fixture
def server(tmp_path):
    gateway = start_gateway(tmp_path / "gateway.log", WEBAUTHN_RP_ID="localhost")
    yield gateway
    stop(gateway)


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


def local(server, path: str) -> str:
    return server.base_url.replace("127.0.0.1", "localhost") + path


def authenticator(browser, *, verifies: bool = True) -> None:
    options = VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2,
        transport=Transport.INTERNAL,
        has_resident_key=True,
        has_user_verification=True,
        is_user_consenting=True,
        is_user_verified=verifies,
    )
    browser.add_virtual_authenticator(options)


def mailed_code(server, after: int) -> str:
    """The newest code the server printed to its console mail since ``after``."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        codes = CODE.findall(server.log_path.read_text(errors="replace")[after:])
        if codes:
            return codes[-1]
        time.sleep(0.1)
    raise AssertionError("no code was mailed")


def sign_up_with_a_passkey(browser, server, email: str) -> None:
    browser.get(local(server, "/accounts/signup/passkey/"))
    mark = len(server.log_path.read_text(errors="replace"))
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    settled(browser, lambda b: "/confirm" in b.current_url or "code" in b.page_source)
    browser.find_element(By.NAME, "code").send_keys(mailed_code(server, mark))
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    settled(browser, lambda b: b.find_elements(By.ID, "mfa_webauthn_signup"))
    browser.find_element(By.ID, "mfa_webauthn_signup").click()
    settled(browser, lambda b: "/accounts/" not in b.current_url)


def test_sign_up_and_sign_in_with_a_passkey(server, browser):
    authenticator(browser)

    sign_up_with_a_passkey(browser, server, "pia@example.test")
    assert "pia@example.test" in text(browser)

    browser.find_element(By.CSS_SELECTOR, "header form button[type=submit]").click()
    settled(browser, lambda b: b.current_url.endswith("/accounts/login/"))
    assert "pia@example.test" not in text(browser)

    browser.find_element(By.ID, "passkey_login").click()
    settled(browser, lambda b: "/accounts/login/" not in b.current_url)
    assert "pia@example.test" in text(browser)


def test_a_passkey_without_user_verification_is_refused(server, browser):
    authenticator(browser)
    sign_up_with_a_passkey(browser, server, "uma@example.test")
    browser.find_element(By.CSS_SELECTOR, "header form button[type=submit]").click()
    settled(browser, lambda b: b.current_url.endswith("/accounts/login/"))

    # The same credential, but the person is not verified (no PIN, no touch
    # of the fingerprint reader) this time.
    [credential] = browser.get_credentials()
    browser.remove_all_credentials()
    browser.remove_virtual_authenticator()
    authenticator(browser, verifies=False)
    browser.add_credential(credential)
    browser.find_element(By.ID, "passkey_login").click()
    time.sleep(2)  # the browser refuses or the server does; either way no session

    browser.get(local(server, "/accounts/me/"))
    settled(browser, lambda b: "/accounts/login/" in b.current_url)
    assert "uma@example.test" not in text(browser)
