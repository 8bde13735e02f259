"""GitHub and Google sign-in in a real headless Chromium, against a local
stand-in for GitHub and a local OpenID provider (oidc-provider-mock)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from oidc_provider_mock import User as OidcUser
from oidc_provider_mock import run_server_in_thread
from selenium.webdriver.common.by import By

from accounts.services import email_mark_verified
from tests.browser import chromium
from tests.conftest import start_gateway, stop
from tests.fake_github import GitHubPerson, fake_github
from tests.test_pages_in_a_browser import settled, text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def github_server(tmp_path, request):
    person = request.param
    with fake_github(person) as github:
        gateway = start_gateway(
            tmp_path / "gateway.log",
            GITHUB_CLIENT_ID="warden-test",
            GITHUB_CLIENT_SECRET="github-test-secret",
            GITHUB_URL=github.base_url,
        )
        yield gateway, github
        stop(gateway)


def sign_in_through(browser, gateway, provider: str) -> None:
    browser.get(gateway.base_url + "/accounts/login/")
    browser.find_element(By.LINK_TEXT, provider).click()
    settled(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "form button"))
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


@pytest.mark.parametrize(
    "github_server", [GitHubPerson("octo", "octo@example.test")], indirect=True
)
def test_a_newcomer_signs_up_with_github(github_server, browser):
    gateway, _ = github_server

    sign_in_through(browser, gateway, "GitHub")
    settled(browser, lambda b: "/accounts/" not in b.current_url)

    assert "octo@example.test" in text(browser)
    account = SocialAccount.objects.get(provider="github")
    assert account.user.email == "octo@example.test"
    assert "token" not in str(account.extra_data).lower()
    assert "github-test-secret" not in gateway.log_path.read_text(errors="replace")


@pytest.mark.parametrize(
    "github_server",
    [GitHubPerson("imposter", "ella@example.test", verified=False)],
    indirect=True,
)
def test_an_unverified_github_address_never_takes_over_an_account(
    github_server, browser, django_user_model
):
    gateway, _ = github_server
    ella = django_user_model.objects.create_user("ella", "ella@example.test", "x" * 20)
    email_mark_verified(ella)

    sign_in_through(browser, gateway, "GitHub")
    settled(browser, lambda b: "/accounts/" in b.current_url)

    assert "ella@example.test" not in browser.find_element(By.TAG_NAME, "header").text
    assert not SocialAccount.objects.filter(user=ella).exists()


@pytest.mark.parametrize(
    "github_server", [GitHubPerson("ella-gh", "ella@example.test")], indirect=True
)
def test_a_verified_github_address_signs_in_to_its_account(
    github_server, browser, django_user_model
):
    gateway, _ = github_server
    ella = django_user_model.objects.create_user("ella", "ella@example.test", "x" * 20)
    email_mark_verified(ella)

    sign_in_through(browser, gateway, "GitHub")
    settled(browser, lambda b: "/accounts/" not in b.current_url)

    assert "ella@example.test" in text(browser)
    assert SocialAccount.objects.get(user=ella).provider == "github"


def test_sign_in_with_google_through_openid_connect(tmp_path, browser):
    gina = OidcUser(
        sub="google-gina",
        claims={"email": "gina@example.test", "email_verified": True, "name": "Gina"},
    )
    with run_server_in_thread(user_claims=[gina]) as provider:
        gateway = start_gateway(
            tmp_path / "gateway.log",
            GOOGLE_CLIENT_ID="warden-google-test",
            GOOGLE_CLIENT_SECRET="google-test-secret",
            GOOGLE_OIDC_URL=f"http://localhost:{provider.server_port}",
        )
        try:
            sign_in_through(browser, gateway, "Google")
            settled(browser, lambda b: b.find_elements(By.NAME, "sub"))
            browser.find_element(
                By.CSS_SELECTOR, "button[name=sub][value=google-gina]"
            ).click()
            settled(browser, lambda b: "/accounts/" not in b.current_url)
        finally:
            stop(gateway)

    assert "gina@example.test" in text(browser)
    assert SocialAccount.objects.get(uid="google-gina").user.email == (
        "gina@example.test"
    )
