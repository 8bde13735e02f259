"""The secrets detector: service tokens, generic assignments, placeholders."""

from __future__ import annotations

import hashlib
import random
import string

import pytest

from guardrails import secrets
from guardrails.secret_rules import RULES
from guardrails.secrets import detect_secrets

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"
BASE64 = ALNUM + "+/"
LETTERS = string.ascii_letters


def made_up(alphabet: str, size: int, seed: int = 7) -> str:
    """Return a made-up token body; seeded, so every run tests the same value."""
    chooser = random.Random(f"{alphabet}{size}{seed}")
    return "".join(chooser.choice(alphabet) for _ in range(size))


def pem_block(kind: str) -> str:
    body = "\n".join(made_up(BASE64, 64, seed=line) for line in range(4))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


def pgp_block() -> str:
    body = "\n".join(made_up(BASE64, 64, seed=line) for line in range(4))
    return (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
        f"{body}\n-----END PGP PRIVATE KEY BLOCK-----"
    )


def service_account_key() -> str:
    """Return a PEM key as a service-account JSON file writes it: one line."""
    body = "\\n".join(made_up(BASE64, 64, seed=line) for line in range(4))
    return f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n"


JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJtYWRlLXVwIiwibmFtZSI6Ik5vYm9keSJ9." + made_up(ALNUM + "_-", 43)
)

# (rule id, text around the value, value): the value must be found exactly.
SERVICES = [
    ("openai-api-key", "OPENAI_API_KEY={}", "sk-proj-" + made_up(ALNUM + "_-", 100)),
    (
        "openai-api-key",
        "key {} here",
        "sk-" + made_up(ALNUM, 20) + "T3BlbkFJ" + made_up(ALNUM, 20),
    ),
    ("anthropic-api-key", "{}", "sk-ant-api03-" + made_up(ALNUM + "_-", 93) + "AA"),
    ("anthropic-admin-api-key", "{}", "sk-ant-admin01-" + made_up(ALNUM, 93) + "AA"),
    ("aws-access-key-id", "id {} ok", "AKIA" + made_up(BASE32, 16)),
    ("aws-access-key-id", "id {} ok", "ASIA" + made_up(BASE32, 16, seed=2)),
    ("aws-secret-access-key", "aws_secret_access_key = {}", made_up(BASE64, 40)),
    ("github-pat", "token {}", "ghp_" + made_up(ALNUM, 36)),
    ("github-oauth", "{}", "gho_" + made_up(ALNUM, 36)),
    ("github-user-to-server-token", "{}", "ghu_" + made_up(ALNUM, 36)),
    ("github-app-token", "{}", "ghs_" + made_up(ALNUM, 36)),
    ("github-refresh-token", "{}", "ghr_" + made_up(ALNUM, 36)),
    (
        "github-fine-grained-pat",
        "{}",
        "github_pat_" + made_up(ALNUM, 22) + "_" + made_up(ALNUM, 59),
    ),
    ("gitlab-pat", "{}", "glpat-" + made_up(ALNUM, 20)),
    ("gitlab-deploy-token", "{}", "gldt-" + made_up(ALNUM, 20)),
    ("slack-bot-token", "{}", "xoxb-123456789012-1234567890123-" + made_up(ALNUM, 24)),
    (
        "slack-user-token",
        "{}",
        "xoxp-123456789012-123456789012-123456789012-" + made_up(HEX, 32),
    ),
    (
        "slack-app-token",
        "{}",
        "xapp-1-A0" + made_up(BASE32, 9) + "-1234567890123-" + made_up(HEX, 64),
    ),
    (
        "slack-webhook-url",
        "post to {}",
        "https://hooks.slack.com/services/T0"
        + made_up(BASE32, 7)
        + "/B0"
        + made_up(BASE32, 7)
        + "/"
        + made_up(ALNUM, 24),
    ),
    ("stripe-access-token", "{}", "sk_live_" + made_up(ALNUM, 24)),
    ("stripe-access-token", "{}", "rk_test_" + made_up(ALNUM, 24)),
    ("gcp-api-key", "key={}", "AIzaSy" + made_up(ALNUM + "_-", 33)),
    ("gcp-oauth-client-secret", "{}", "GOCSPX-" + made_up(ALNUM, 28)),
    ("huggingface-access-token", "HF_TOKEN={}", "hf_" + made_up(LETTERS, 34)),
    ("twilio-api-key", "TWILIO_API_KEY={}", "SK" + made_up(HEX, 32)),
    ("sendgrid-api-token", "{}", "SG." + made_up(ALNUM, 22) + "." + made_up(ALNUM, 43)),
    (
        "npm-access-token",
        "//registry.npmjs.org/:_authToken={}",
        "npm_" + made_up(ALNUM, 36),
    ),
    ("pypi-upload-token", "{}", "pypi-AgEIcHlwaS5vcmc" + made_up(ALNUM, 70)),
    ("jwt", "Bearer {}", JWT),
    ("private-key", "{}", pem_block("RSA ")),
    ("private-key", "{}", pem_block("EC ")),
    ("private-key", "{}", pem_block("OPENSSH ")),
    ("private-key", "{}", pem_block("")),
    ("private-key", "{}", pgp_block()),
    (
        "gcp-service-account-private-key",
        '{{"type": "service_account", "private_key": "{}", "client_id": "1"}}',
        service_account_key(),
    ),
    (
        "connection-string-password",
        "postgres://app:{}@db.internal:5432/main",
        "Qz8" + made_up(ALNUM, 13),
    ),
    ("digitalocean-pat", "{}", "dop_v1_" + made_up(HEX, 64)),
    ("hashicorp-vault-service-token", "{}", "hvs." + made_up(ALNUM, 95)),
    ("hashicorp-vault-batch-token", "{}", "hvb." + made_up(ALNUM, 140)),
    ("databricks-api-token", "{}", "dapi" + made_up(HEX, 32)),
    ("doppler-api-token", "{}", "dp.pt." + made_up(ALNUM, 43)),
    ("new-relic-user-api-key", "{}", "NRAK-" + made_up(BASE32, 27)),
    ("sentry-user-token", "{}", "sntryu_" + made_up(HEX, 64)),
    ("postman-api-token", "{}", "PMAK-" + made_up(HEX, 24) + "-" + made_up(HEX, 34)),
    ("pulumi-api-token", "{}", "pul-" + made_up(HEX, 40)),
    ("linear-api-key", "{}", "lin_api_" + made_up(ALNUM, 40)),
    ("notion-api-token", "{}", "ntn_" + made_up("0123456789", 11) + made_up(ALNUM, 35)),
    (
        "grafana-service-account-token",
        "{}",
        "glsa_" + made_up(ALNUM, 32) + "_" + made_up(HEX, 8),
    ),
    ("1password-service-account-token", "{}", "ops_eyJ" + made_up(BASE64, 300)),
    ("shopify-access-token", "{}", "shpat_" + made_up(HEX, 32)),
    ("square-secret", "{}", "sq0csp-" + made_up(ALNUM, 43)),
    ("heroku-api-key", "HEROKU_API_KEY={}", "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"),
    ("mailgun-private-api-token", "mailgun_key: {}", "key-" + made_up(HEX, 32)),
    ("telegram-bot-api-token", "{}", "123456789:AA" + made_up(ALNUM, 33)),
    (
        "discord-webhook-url",
        "{}",
        "discord.com/api/webhooks/123456789012345678/" + made_up(ALNUM, 68),
    ),
    ("azure-ad-client-secret", "client_secret={}", "abc8Q~" + made_up(ALNUM, 34)),
    ("alibaba-access-key-id", "{}", "LTAI" + made_up(ALNUM, 20)),
    ("tencent-cloud-secret-id", "{}", "AKID" + made_up(ALNUM, 32)),
    ("supabase-access-token", "{}", "sbp_" + made_up(HEX, 40)),
    ("planetscale-password", "{}", "pscale_pw_" + made_up(ALNUM, 43)),
    ("atlassian-api-token", "{}", "ATATT3" + made_up(ALNUM, 186)),
    ("airtable-pat", "{}", "pat" + made_up(ALNUM, 14) + "." + made_up(HEX, 64)),
    (
        "terraform-cloud-api-token",
        "{}",
        made_up(ALNUM, 14).lower() + ".atlasv1." + made_up(ALNUM, 67),
    ),
    ("netlify-pat", "{}", "nfp_" + made_up(ALNUM, 36)),
    ("vercel-access-token", "VERCEL_TOKEN={}", made_up(ALNUM, 23) + "7"),
    ("cloudflare-api-key", "CLOUDFLARE_API_TOKEN={}", made_up(ALNUM, 40)),
    ("fastly-api-token", "FASTLY_API_TOKEN={}", made_up(ALNUM, 32)),
    ("datadog-api-key", "DATADOG_API_KEY={}", made_up(HEX, 32)),
    ("mailchimp-api-key", "MAILCHIMP_KEY={}", made_up(HEX, 32) + "-us12"),
    (
        "gateway-api-key",
        "{}",
        "wdn_live_" + made_up(HEX, 16) + "_" + made_up(ALNUM, 40),
    ),
    (
        "gateway-management-token",
        "Authorization: Bearer {}",
        "wmt_" + made_up(HEX, 16) + "_" + made_up(ALNUM, 21) + "-" + made_up(ALNUM, 21),
    ),
    ("generic-password", 'password = "{}"', "Nq7-" + made_up(ALNUM, 12)),
]


@pytest.mark.parametrize(("rule_id", "around", "value"), SERVICES)
def test_well_known_service_token_is_found_exactly(rule_id, around, value):
    text = around.format(value)
    start = text.index(value)

    found = [(f.type, f.start, f.end) for f in detect_secrets(text)]

    assert (rule_id, start, start + len(value)) in found


@pytest.mark.parametrize(
    "text",
    [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "OPENAI_API_KEY=<your-key-here>",
        "api_key = xxxxxxxxxxxxxxxxxxxxxxxx",
        "password: ${DB_PASSWORD}",
        "password = changeme",
        "token: {{ secrets.DEPLOY_TOKEN }}",
        "password = settings.DATABASE_PASSWORD",
        "secret_key = os.environ['SECRET_KEY']",
        "stripe_key = sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        "DATABASE_URL=postgres://user:password@localhost/app",
        "curl -u $API_USER:$API_PASSWORD https://api.example.org",
        "request id 123e4567-e89b-12d3-a456-426614174000",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "The quick brown fox jumps over the lazy dog.",
        "Use the username/password combination that IT sent you.",
        "Pass the key to the secret garden; the token is on the desk.",
        "max_tokens = 4096",
        "csrf_token = 'Qm9ndXNDc3JmVmFsdWVGb3JUZXN0czEyMw=='",
        "bucket_key = 'Zx9fakeK744sG54VgABW'",
        "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----",
    ],
)
def test_placeholders_and_ordinary_text_are_not_secrets(text):
    assert detect_secrets(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (
            "PAGER_API_KEY: 7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        ),
        ('"Session__Token" = "QuietMorningHarbour"', "QuietMorningHarbour"),
        ("kafka_password=Pl4inFakeV4lue/+x9QmZ", "Pl4inFakeV4lue/+x9QmZ"),
        ("my password is Tr0ub4dor&3 please", "Tr0ub4dor&3"),
        ("-H 'Authorization: Bearer Qm9ndXMtdG9rZW4tMTIz'", "Qm9ndXMtdG9rZW4tMTIz"),
        (
            '{"client_secret": "d4f1b2c3a4e5f60718293a4b5c6d7e8f"}',
            "d4f1b2c3a4e5f60718293a4b5c6d7e8f",
        ),
    ],
)
def test_secret_names_catch_values_of_any_shape(text, value):
    start = text.index(value)

    spans = [(f.start, f.end) for f in detect_secrets(text)]

    assert (start, start + len(value)) in spans


def test_finding_covers_the_value_not_the_line():
    value = "ghp_" + made_up(ALNUM, 36)
    text = f"export GITHUB_TOKEN={value}  # for the release job"

    (finding,) = detect_secrets(text)

    assert text[finding.start : finding.end] == value


def test_prefixed_format_is_surer_than_a_generic_assignment():
    prefixed = detect_secrets("ghp_" + made_up(ALNUM, 36))[0]
    generic = detect_secrets("db_password = 'Nq7-" + made_up(ALNUM, 12) + "'")[0]

    assert generic.type == "generic-password"
    assert prefixed.confidence > generic.confidence


def test_keyword_prefilter_skips_rules_whose_keywords_are_absent(monkeypatch):
    applied = []
    real_apply = secrets._apply

    def counting_apply(rule, text):
        applied.append(rule.id)
        return real_apply(rule, text)

    monkeypatch.setattr(secrets, "_apply", counting_apply)
    prose = "The committee agreed to repair the roof before the storms. " * 50

    assert detect_secrets(prose) == []
    assert applied == []

    detect_secrets(prose + " ghp_" + made_up(ALNUM, 36))

    assert applied == ["github-pat"]


def test_rule_table_covers_many_services_with_lowercase_keywords():
    assert len({rule.id for rule in RULES}) >= 150
    for rule in RULES:
        assert rule.keywords, rule.id
        assert all(keyword == keyword.lower() for keyword in rule.keywords), rule.id


def test_text_whose_lowercase_changes_length_still_finds_assignments():
    # "İ" lowercases to two characters, so keyword positions cannot be reused.
    text = "İstanbul office: db_password = 'Nq7-" + made_up(ALNUM, 12) + "'"

    (finding,) = detect_secrets(text)

    assert finding.type == "generic-password"
    assert text[finding.start : finding.end].startswith("Nq7-")


def test_one_megabyte_input_is_scanned_to_the_end():
    value = "ghp_" + made_up(ALNUM, 36)
    prose = "Notes from the planning meeting, with a key decision or two. " * 18_000
    text = prose + value

    found = detect_secrets(text)

    assert len(text) > 2**20
    assert [(f.start, f.end) for f in found] == [(len(prose), len(text))]


def test_many_unterminated_private_key_headers_are_not_findings():
    text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEAAAA" * 30_000

    assert detect_secrets(text) == []


@pytest.mark.parametrize(
    "name", ["Passwort:", "kennwort =", "wachtwoord=", "senha:", "haslo=",
             "contrasena:", "mot de passe:"],
)  # fmt: skip
def test_passwords_named_in_other_languages_are_found(name):
    line = f"{name} Xk7#mQ2vL9pRw"

    found = detect_secrets(line)

    assert [line[f.start : f.end] for f in found] == ["Xk7#mQ2vL9pRw"]


@pytest.mark.parametrize(
    ("rule_id", "low", "real"),
    [
        ("grafana-cloud-api-token", "glc_" + "1" * 42 + "=", "glc_"),
        ("sourcegraph-access-token", "sgp_" + "5" * 20 + "a" * 20, "sgp_"),
    ],
)
def test_values_below_the_rules_entropy_are_samples(rule_id, low, real):
    rule = next(rule for rule in RULES if rule.id == rule_id)

    assert rule.entropy >= 3.0  # gitleaks' figure, higher than none
    assert detect_secrets(f"token = {low}") == []
    value = real + made_up("0123456789abcdef", 40)
    assert [f.type for f in detect_secrets(f"see {value} here")] == [rule_id]


def test_a_key_published_on_purpose_is_not_a_finding(monkeypatch):
    value = "AIza" + made_up(ALNUM, 35)
    text = f"const firebase = {{ apiKey: '{value}' }};"

    assert [f.type for f in detect_secrets(text)] == ["gcp-api-key"]

    digest = hashlib.sha256(value.encode()).hexdigest()
    monkeypatch.setattr(secrets, "PUBLISHED_SHA256", frozenset({digest}))

    assert detect_secrets(text) == []
    assert secrets.is_published(value)
    assert not secrets.is_published(value[:-1] + "x")
