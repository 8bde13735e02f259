"""The pages, in a real headless Chromium against a real server process."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from accounts.services import (
    email_mark_verified,
    membership_add,
    organization_create,
)
from audit.context import Actor
from audit.services import record
from tests.browser import chromium
from tests.conftest import start_gateway, stop

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a long enough browser password"


@pytest.fixture
def server(tmp_path):
    gateway = start_gateway(tmp_path / "gateway.log")
    yield gateway
    stop(gateway)


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


def sign_in(browser, server, username: str, password: str) -> None:
    browser.get(server.base_url + "/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    settled(
        browser,
        lambda b: (
            not b.current_url.endswith("/accounts/login/")
            or "not correct" in b.page_source
        ),
    )


def settled(browser, condition) -> None:
    """Wait for the next page to have loaded and to meet ``condition``.

    While a page is replaced, reading the old one can fail in several ways;
    each only means "not yet".
    """
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda b: (
            b.execute_script("return document.readyState") == "complete"
            and condition(b)
        )
    )


def text(browser) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def test_an_owner_reviews_the_trail_and_a_stranger_cannot(
    server, browser, django_user_model
):
    acme, other = organization_create(slug="acme"), organization_create(slug="other")
    owner = django_user_model.objects.create_user("olivia", "o@acme.test", PASSWORD)
    email_mark_verified(owner)
    membership_add(organization=acme, user=owner, role="owner")
    actor = Actor("user", str(owner.pk), "o@acme.test")
    record(
        "api_key.limits_changed",
        organization=acme,
        target_type="keys.apikey",
        target_id="k1",
        before={"rpm": 5},
        after={"rpm": 50, "tpm": 1000},
        actor=actor,
    )
    record("project.created", organization=acme, target_id="web", actor=actor)
    record("project.created", organization=other, target_id="secret-project")

    sign_in(browser, server, "olivia", "not the password")
    assert "username and/or password you specified are not correct" in text(browser)

    sign_in(browser, server, "olivia", PASSWORD)
    browser.find_element(By.LINK_TEXT, "acme").click()
    settled(browser, lambda b: b.current_url.endswith("/orgs/acme/audit/"))
    page = text(browser)
    assert "api_key.limits_changed" in page and "project.created" in page
    assert "secret-project" not in page

    action = browser.find_element(By.NAME, "action")
    action.send_keys("api_key.")
    action.submit()
    # The filtered page is a new document: wait for it before reading rows.
    settled(browser, lambda b: "action=api_key." in b.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.audit-events tbody tr")
    assert len(rows) == 1 and "api_key.limits_changed" in rows[0].text

    rows[0].find_element(By.TAG_NAME, "a").click()
    diff = (
        WebDriverWait(browser, 10)
        .until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.audit-diff")))
        .text
    )
    assert "rpm" in diff and "changed" in diff
    assert "tpm" in diff and "added" in diff

    browser.get(server.base_url + "/orgs/other/audit/")
    assert "secret-project" not in text(browser)
    assert "No such organisation" in text(browser) or "Not Found" in text(browser)

    browser.get(server.base_url + "/accounts/me/")
    assert "Delete my account" in text(browser)
    browser.find_element(By.CSS_SELECTOR, "header form button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda b: b.current_url.endswith("/accounts/login/")
    )
