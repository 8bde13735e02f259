"""The dashboard in a real headless Chromium: an owner starts an
organisation, invites a teammate and makes an API key that is shown once.
A screenshot of each main page goes to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from accounts.services import email_mark_verified
from tests.browser import chromium
from tests.conftest import ROOT, start_gateway, stop
from tests.test_pages_in_a_browser import settled, sign_in, text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a long enough browser password"
SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture
def server(tmp_path):
    gateway = start_gateway(tmp_path / "gateway.log")
    yield gateway
    stop(gateway)


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


def snap(browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))
    # JavaScript errors only: a form error's 400 is the page working.
    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and entry.get("source") != "network"
    ]
    assert not errors, errors


def submit(browser, label: str = "") -> None:
    if label:
        browser.find_element(By.XPATH, f"//button[normalize-space()='{label}']").click()
    else:
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def test_an_owner_starts_an_organisation_and_makes_a_key(
    server, browser, django_user_model
):
    owner = django_user_model.objects.create_user("olga", "olga@example.test", PASSWORD)
    email_mark_verified(owner)
    browser.get(server.base_url + "/accounts/login/")
    snap(browser, "sign-in")
    sign_in(browser, server, "olga", PASSWORD)

    browser.get(server.base_url + "/orgs/")
    browser.find_element(By.NAME, "slug").send_keys("Not Valid!")
    browser.find_element(By.NAME, "name").send_keys("Initech")
    submit(browser)
    settled(browser, lambda b: "errorlist" in b.page_source)
    snap(browser, "organisations-with-an-error")
    slug = browser.find_element(By.NAME, "slug")
    slug.clear()
    slug.send_keys("initech")
    submit(browser)
    settled(browser, lambda b: b.current_url.endswith("/orgs/initech/"))
    snap(browser, "organisation")

    browser.find_element(By.LINK_TEXT, "Members").click()
    settled(browser, lambda b: b.current_url.endswith("/members/"))
    browser.find_element(By.NAME, "email").send_keys("peter@example.test")
    Select(browser.find_element(By.ID, "id_role")).select_by_value("viewer")
    submit(browser, "Send invitation")
    # Inviting asks for the password again; the invitation goes out after it.
    settled(browser, lambda b: "/accounts/reauthenticate/" in b.current_url)
    snap(browser, "reauthenticate")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    submit(browser)
    settled(browser, lambda b: "Invitation sent" in b.page_source)
    assert "peter@example.test as Viewer" in text(browser)
    snap(browser, "members")

    browser.get(server.base_url + "/orgs/initech/keys/new/")
    settled(browser, lambda b: b.current_url.endswith("/keys/new/"))
    browser.find_element(By.NAME, "name").send_keys("ci")
    submit(browser)
    settled(browser, lambda b: "Copy it now" in b.page_source)
    full = browser.find_element(By.ID, "new-key").get_attribute("value")
    assert re.fullmatch(r"wdn_live_\S+", full)
    browser.find_element(By.CSS_SELECTOR, "[data-copy=new-key]").click()
    settled(browser, lambda b: "Cop" in b.find_element(
        By.CSS_SELECTOR, "[data-copied-for=new-key]").text)  # fmt: skip
    snap(browser, "key-shown-once")

    browser.find_element(By.LINK_TEXT, "Done").click()
    settled(browser, lambda b: b.current_url.endswith("/keys/"))
    assert full not in browser.page_source
    assert f"…{full[-4:]}" in text(browser)
    snap(browser, "keys")

    for page in ("providers", "guardrails", "usage"):
        browser.get(server.base_url + f"/orgs/initech/{page}/")
        settled(browser, lambda b: "Initech" in b.page_source)
        snap(browser, page)

    browser.get(server.base_url + "/api/docs/")
    settled(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".swagger-ui .info"))
    snap(browser, "api-docs")  # under the page's CSP: no inline script refused

    browser.get(server.base_url + "/admin/login/")
    snap(browser, "admin-sign-in")

    browser.get(server.base_url + "/accounts/2fa/")
    snap(browser, "security")
    browser.get(server.base_url + "/accounts/sessions/")
    snap(browser, "sessions")
