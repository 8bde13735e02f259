"""Settings for Warden, read from the environment.

With nothing set, the gateway runs on SQLite in ``var/`` with the local-memory
cache and development secrets kept in ``var/dev-secrets.json``. Production sets
``DEBUG=false``, ``AUTH_SECRET``, ``MASTER_KEYS``, ``DATABASE_URL``,
``REDIS_URL`` and ``ALLOWED_HOSTS``. Secrets come from the source chosen by
``SECRETS_BACKEND`` (see ``gateway_project/secret_sources``): by default the
environment, where each may also come from ``NAME_FILE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF

from gateway_project import env, logformat, metrics, secret_sources
from gateway_project.passwords import SecretPasswordConnection, redis_connection
from gateway_project.secrets import (
    MasterKeyring,
    follow_auth_secret,
    required_secret,
    url_with_password,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.string("WARDEN_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env.boolean("DEBUG", default=True)
SECRET_KEY = required_secret("AUTH_SECRET", debug=DEBUG, folder=DATA_DIR)
if not DEBUG and len(SECRET_KEY) < 50:
    raise env.ConfigError("AUTH_SECRET must be at least 50 characters")
SECRET_KEY_FALLBACKS: list[str] = []
# A rotated AUTH_SECRET becomes SECRET_KEY without a restart, the old one a fallback.
follow_auth_secret(debug=DEBUG)
# Data keys are wrapped by the MASTER_KEYS keyring, or by a Vault Transit key.
MASTER_KEY_BACKEND = env.string("MASTER_KEY_BACKEND", "keyring").strip().lower()
if MASTER_KEY_BACKEND not in ("keyring", "vault-transit"):
    raise env.ConfigError(
        "MASTER_KEY_BACKEND must be keyring or vault-transit, "
        f"not {MASTER_KEY_BACKEND!r}"
    )
VAULT_TRANSIT: dict[str, Any] = {
    "address": env.string("VAULT_ADDR"),
    "mount": env.string("VAULT_TRANSIT_MOUNT", "transit"),
    "key": env.string("VAULT_TRANSIT_KEY", "warden"),
    "namespace": env.string("VAULT_NAMESPACE"),
    "ca_file": env.string("VAULT_CACERT"),
    "cache_seconds": env.number("VAULT_TRANSIT_CACHE_SECONDS", 300.0),
}
if MASTER_KEY_BACKEND == "vault-transit":
    if not VAULT_TRANSIT["address"]:
        raise env.ConfigError("MASTER_KEY_BACKEND=vault-transit needs VAULT_ADDR")
    if not 0 < len(VAULT_TRANSIT["key"]) <= 56:
        raise env.ConfigError("VAULT_TRANSIT_KEY must be 1 to 56 characters")
# Re-read through the secret cache on use, so a rotated keyring needs no restart.
# Under Transit the keyring is optional: it unwraps data keys not yet moved.
_master_keys = (
    secret_sources.lookup("MASTER_KEYS")
    if MASTER_KEY_BACKEND == "vault-transit" and not DEBUG
    else required_secret("MASTER_KEYS", debug=DEBUG, folder=DATA_DIR)
)
MASTER_KEYS: Sequence[tuple[str, bytes]] = (
    MasterKeyring(_master_keys, current=lambda: secret_sources.lookup("MASTER_KEYS"))
    if _master_keys
    else []
)

ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise env.ConfigError("ALLOWED_HOSTS is not set; it is required when DEBUG is off")
if not DEBUG and "*" in ALLOWED_HOSTS:
    # Any Host header would do: password-reset links and redirects could name
    # a host of the caller's choosing.
    raise env.ConfigError(
        "ALLOWED_HOSTS lists the server's host names; '*' is refused when DEBUG is off"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.openid_connect",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "keys",
    "providers",
    "guardrails",
    "audit",
    "proxy",
]

MIDDLEWARE = [
    "gateway_project.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.AuthThrottleMiddleware",
    "accounts.middleware.ApiThrottleMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "accounts.middleware.PlatformAdminMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "gateway_project.urls"
WSGI_APPLICATION = "gateway_project.wsgi.application"
ASGI_APPLICATION = "gateway_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env.raw("DATABASE_URL")
if _database_url:
    _database_url = url_with_password(
        _database_url, secret_sources.lookup("DATABASE_PASSWORD")
    )
    DATABASES = {"default": dj_database_url.parse(_database_url)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Under ASGI each page request runs in a thread of its own, so
        # connections come from a pool per worker instead of persisting per
        # thread. Tenant settings are transaction-local, so a pooled
        # connection carries none of them to its next user.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env.integer("DATABASE_POOL_SIZE", 20, minimum=1),
            "timeout": env.number("DATABASE_POOL_TIMEOUT", 10.0, minimum=0.1),
            # Each new connection logs in with the current DATABASE_PASSWORD.
            "connection_class": SecretPasswordConnection,
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "warden.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# The role the application connects as, granted its privileges after every
# migrate (run as the tables' owner). See accounts/database.py.
DATABASE_APP_ROLE = env.string("DATABASE_APP_ROLE")
# The role of processes that serve only /v1: the app role's privileges, but
# provider credentials and data keys read-only.
DATABASE_GATEWAY_ROLE = env.string("DATABASE_GATEWAY_ROLE")

# What this process serves: the /v1 proxy ("gateway"), the dashboards,
# management API and admin ("api"), or both ("all").
SERVICE_ROLE = env.string("WARDEN_ROLE", "all").strip().lower()
if SERVICE_ROLE not in ("all", "gateway", "api"):
    raise env.ConfigError(
        f"WARDEN_ROLE must be all, gateway or api, not {SERVICE_ROLE!r}"
    )

REDIS_URL = env.string("REDIS_URL")
if REDIS_URL:
    REDIS_URL = url_with_password(REDIS_URL, secret_sources.lookup("REDIS_PASSWORD"))
# The CA of a rediss:// server's certificate, when the system's roots do not
# cover it; the certificate and its host name are always checked.
REDIS_CA_FILE = env.ca_file("REDIS_CA_FILE")
if REDIS_CA_FILE and not REDIS_URL.startswith("rediss://"):
    raise env.ConfigError("REDIS_CA_FILE is set but REDIS_URL is not a rediss:// URL")
REDIS_MAX_CONNECTIONS = env.integer("REDIS_MAX_CONNECTIONS", 200, minimum=1)
REDIS_POOL_TIMEOUT = env.number("REDIS_POOL_TIMEOUT", 5.0, minimum=0.1)
# A Redis that does not answer within this is treated as down; the proxy then
# skips it for REDIS_RETRY_SECONDS rather than waiting on every request.
REDIS_SOCKET_TIMEOUT = env.number("REDIS_SOCKET_TIMEOUT", 2.0, minimum=0.1)
REDIS_RETRY_SECONDS = env.number("REDIS_RETRY_SECONDS", 1.0, minimum=0.0)
if REDIS_URL:
    # Each new Redis connection asks the secret cache for REDIS_PASSWORD.
    _redis_location, _redis_options = redis_connection(REDIS_URL, ca_file=REDIS_CA_FILE)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_location,
            "OPTIONS": _redis_options,
            "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "warden"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 16},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=True)
    # Probes inside a cluster call these over plain http, past the proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Failed password sign-ins allowed per account name and per client address in
# a window, before sign-in is refused for the rest of it.
SIGNIN_FAILURES_PER_NAME = env.integer("SIGNIN_FAILURES_PER_NAME", 10, minimum=1)
SIGNIN_FAILURES_PER_ADDRESS = env.integer("SIGNIN_FAILURES_PER_ADDRESS", 50, minimum=1)
SIGNIN_FAILURE_WINDOW_SECONDS = env.integer(
    "SIGNIN_FAILURE_WINDOW_SECONDS", 900, minimum=1
)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# CORS for the dashboard's API and pages: only these exact origins (scheme,
# host and port), with credentials; none by default. The /v1 proxy has its
# own setting, PROXY_CORS_ALLOWED_ORIGINS.
CORS_ALLOWED_ORIGINS = env.csv("CORS_ALLOWED_ORIGINS", [])
if any(origin in ("*", "null") or "*" in origin for origin in CORS_ALLOWED_ORIGINS):
    raise env.ConfigError(
        "CORS_ALLOWED_ORIGINS lists exact origins; '*' and 'null' are refused "
        "(credentials are allowed)"
    )
CORS_ALLOW_CREDENTIALS = True
# PATCH too: the API changes a project's limits and a policy with it.
CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_PREFLIGHT_MAX_AGE = 86400
CORS_URLS_REGEX = r"^/(api|accounts)/.*$"
# A page on an allowed origin may post with the CSRF token.
CSRF_TRUSTED_ORIGINS = list(CORS_ALLOWED_ORIGINS)

# Client addresses: the connection's, unless it comes from one of these
# networks (a load balancer or reverse proxy), whose X-Forwarded-For is then
# read from the right, skipping the trusted hops.
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES")
# A request is https when such a proxy says so; the header is removed from
# every other peer's requests before Django sees it (gateway_project/clientaddr).
if not DEBUG and env.boolean("TRUST_X_FORWARDED_PROTO", default=False):
    if not TRUSTED_PROXIES:
        raise env.ConfigError(
            "TRUST_X_FORWARDED_PROTO needs TRUSTED_PROXIES: the networks of the "
            "proxies whose X-Forwarded-Proto is believed"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Sign-in: django-allauth. Email and password, email codes, passkeys
# (WebAuthn), TOTP with recovery codes, GitHub and Google.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.ThrottledLoginForm"}
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Changing an address or a password asks for the password or a passkey
# again, and the old address is told of every such change.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.integer(
    "REAUTHENTICATION_SECONDS", 300, minimum=30
)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Warden] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's own limits on every form that sends mail or checks a secret,
# counted in the shared cache (per client address, per account, per key).
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "request_login_code": "20/m/ip,3/m/key",
    "change_phone": "1/m/user",
    "verify_phone": "1/30s/key",
}
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = True
MFA_TOTP_ISSUER = "Warden"
# Passkeys are bound to this domain (the relying party), never to the Host
# header of a request; it must be the dashboard's host or a parent of it.
WEBAUTHN_RP_ID = env.string("WEBAUTHN_RP_ID", "localhost")
WEBAUTHN_RP_NAME = env.string("WEBAUTHN_RP_NAME", "Warden")
USERSESSIONS_TRACK_ACTIVITY = True

# GitHub and Google accounts, configured here (never in database rows). Google
# is reached over OpenID Connect; GOOGLE_OIDC_URL exists for tests.
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_QUERY_EMAIL = True  # GitHub says which addresses it verified
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_PROVIDERS: dict[str, Any] = {}
_github_id = env.string("GITHUB_CLIENT_ID")
if _github_id:
    SOCIALACCOUNT_PROVIDERS["github"] = {
        "APPS": [
            {
                "client_id": _github_id,
                "secret": secret_sources.lookup("GITHUB_CLIENT_SECRET") or "",
            }
        ],
        "SCOPE": ["read:user", "user:email"],
        "VERIFIED_EMAIL": False,
        **(
            {"GITHUB_URL": env.string("GITHUB_URL")} if env.string("GITHUB_URL") else {}
        ),
    }
_google_id = env.string("GOOGLE_CLIENT_ID")
if _google_id:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": "google",
                "name": "Google",
                "client_id": _google_id,
                "secret": secret_sources.lookup("GOOGLE_CLIENT_SECRET") or "",
                "settings": {
                    "server_url": env.string(
                        "GOOGLE_OIDC_URL", "https://accounts.google.com"
                    ),
                    "scope": ["openid", "email", "profile"],
                },
            }
        ],
        "OAUTH_PKCE_ENABLED": True,
    }

# Content-Security-Policy on every page: scripts, styles and everything else
# from this site only, no inline script or style, never framed. Forms may
# also lead to the configured sign-in providers (the browser checks where a
# form's redirect goes).
_form_targets = [
    app["settings"]["server_url"]
    for app in SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
]
if "github" in SOCIALACCOUNT_PROVIDERS:
    _form_targets.append(
        SOCIALACCOUNT_PROVIDERS["github"].get("GITHUB_URL", "https://github.com")
    )
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *_form_targets],
    }
}

# Sessions: in the database, ended after SESSION_IDLE_SECONDS without a
# request and SESSION_MAX_SECONDS after sign-in whatever happens.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.integer("SESSION_IDLE_SECONDS", 2 * 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_MAX_SECONDS = env.integer("SESSION_MAX_SECONDS", 24 * 3600, minimum=60)

# Mail: printed to the console in development, SMTP in production.
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "warden@localhost")
if env.string("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.string("EMAIL_HOST")
    EMAIL_PORT = env.integer("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env.string("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = secret_sources.lookup("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = 10
else:
    # Printed in development; never in production, where mail carries codes
    # and links that must not reach the logs (see gateway_project/mail.py).
    EMAIL_BACKEND = (
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "gateway_project.mail.UnsentMailBackend"
    )

# Form posts to the sign-in pages (every form under /accounts/ and the admin's
# sign-in), per client address and per account named, a minute at a time.
AUTH_FORM_POSTS_PER_ADDRESS = env.rate("AUTH_FORM_POSTS_PER_ADDRESS", "60/m")
AUTH_FORM_POSTS_PER_ACCOUNT = env.rate("AUTH_FORM_POSTS_PER_ACCOUNT", "10/m")
# The management API (/api/), per client address (wrong tokens included) and
# per signed-in account.
API_REQUESTS_PER_ADDRESS = env.rate("API_REQUESTS_PER_ADDRESS", "600/m")
API_REQUESTS_PER_ACCOUNT = env.rate("API_REQUESTS_PER_ACCOUNT", "300/m")
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = False

# Staff reach the admin only after a second factor (django-otp).
OTP_TOTP_ISSUER = "Warden admin"

REST_FRAMEWORK = {
    # A management token (``Authorization: Bearer wmt_...``), or the
    # dashboard's session with its CSRF token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ManagementTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "gateway_project.schema.WardenSchema",
    "DEFAULT_PARSER_CLASSES": [
        "gateway_project.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Per account; the per-address limit runs earlier, as middleware.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttles.AccountThrottle"],
    # ?format= is a parameter of our own (the audit export's), never a renderer.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Warden management API",
    "DESCRIPTION": "Organisations, members, keys, provider keys, guardrails, "
    "usage and the audit trail. Authenticate with a management token "
    "(Authorization: Bearer wmt_...) or a dashboard session and its CSRF token.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gateway_project.schema.add_error_component",
    ],
}

# /readyz reports "not ready" when a dependency does not answer within this.
READINESS_TIMEOUT_SECONDS = env.number("READINESS_TIMEOUT_SECONDS", 2.0, minimum=0.1)

# Request limits, each refused with a JSON error: the headers of any request,
# /v1 or not (431). The server in front must allow more than this, or its own
# plain-text refusal answers first: uvicorn's httptools parser, which `make run`
# uses, has no limit of its own; its h11 parser stops at 16 KiB.
MAX_REQUEST_HEADER_BYTES = env.integer(
    "MAX_REQUEST_HEADER_BYTES", 16 * 1024, minimum=1024
)
# The proxy's own settings. A /v1 request body larger than this is refused (413).
PROXY_MAX_BODY_BYTES = env.integer("PROXY_MAX_BODY_BYTES", 32 * 1024 * 1024, minimum=1)
# Seconds a client has to send the whole body once its headers are in: a body
# that trickles or stalls past it is refused (408) and its connection closed,
# so slow senders cannot hold connections open indefinitely.
PROXY_BODY_TIMEOUT = env.number("PROXY_BODY_TIMEOUT", 60.0, minimum=0.1)
# Deepest nesting of arrays and objects in a /v1 body (400 past it); JSON
# Schemas in tools and response formats rarely need a dozen levels. The body
# is sent on as JSON, whose encoder stops at 255 levels.
PROXY_MAX_JSON_DEPTH = env.integer("PROXY_MAX_JSON_DEPTH", 64, minimum=2)
if PROXY_MAX_JSON_DEPTH > 255:
    raise env.ConfigError("PROXY_MAX_JSON_DEPTH must be at most 255")
# Most messages in one chat or Messages request (400 past it).
PROXY_MAX_MESSAGES = env.integer("PROXY_MAX_MESSAGES", 2000, minimum=1)
# Browser pages allowed to call /v1 directly (with a key of their own); none
# by default. "*" allows any origin: no cookies are ever involved.
PROXY_CORS_ALLOWED_ORIGINS = env.csv("PROXY_CORS_ALLOWED_ORIGINS", [])
# Seconds to connect to a provider, and the longest silence while waiting
# for its answer or between two parts of a streamed one: past either, the
# caller gets a 504 (upstream_timeout), or an error event ending the stream.
UPSTREAM_CONNECT_TIMEOUT = env.number("UPSTREAM_CONNECT_TIMEOUT", 10.0, minimum=0.1)
UPSTREAM_READ_TIMEOUT = env.number("UPSTREAM_READ_TIMEOUT", 600.0, minimum=0.1)
UPSTREAM_ALLOW_PRIVATE_NETWORKS = env.boolean("UPSTREAM_ALLOW_PRIVATE_NETWORKS")
# PEM certificates trusted for provider calls besides the public roots: the CA
# of a provider on a private network.
UPSTREAM_CA_FILE = env.ca_file("UPSTREAM_CA_FILE")
UPSTREAM_MAX_CONNECTIONS = env.integer("UPSTREAM_MAX_CONNECTIONS", 1000, minimum=1)
USAGE_FLUSH_SECONDS = env.number("USAGE_FLUSH_SECONDS", 1.0, minimum=0.01)
KEY_CACHE_SECONDS = env.integer("KEY_CACHE_SECONDS", 300, minimum=1)
ROUTE_CACHE_SECONDS = env.number("ROUTE_CACHE_SECONDS", 5.0, minimum=0.0)
KEY_FAILURE_LIMIT = env.integer("KEY_FAILURE_LIMIT", 20, minimum=1)
KEY_FAILURE_WINDOW_SECONDS = env.integer("KEY_FAILURE_WINDOW_SECONDS", 60, minimum=1)
BCRYPT_ROUNDS = env.integer("BCRYPT_ROUNDS", 12, minimum=4)
ANTHROPIC_DEFAULT_MAX_TOKENS = env.integer("ANTHROPIC_DEFAULT_MAX_TOKENS", 4096)
# Characters of a streamed answer held back so output guardrails can redact a
# value split across chunks (see guardrails/stream.py).
GUARDRAILS_STREAM_HOLD_BACK = env.integer(
    "GUARDRAILS_STREAM_HOLD_BACK", 128, minimum=16
)
# A class scoring prompts for jailbreaks beside the phrase rules (see
# guardrails/jailbreak.py); empty for the rules alone.
GUARDRAILS_JAILBREAK_CLASSIFIER = env.string(
    "GUARDRAILS_JAILBREAK_CLASSIFIER", "guardrails.jailbreak_model.LinearModel"
)
# A concurrency slot a crashed worker never released stops counting after this.
LIMITS_SLOT_SECONDS = env.integer("LIMITS_SLOT_SECONDS", 900, minimum=1)

# /metrics answers only the bearer of METRICS_TOKEN (and is not found while it
# is unset); it is read through the secret cache on each scrape, so a rotated
# token needs no restart.
_metrics_token = secret_sources.lookup("METRICS_TOKEN")
if _metrics_token and len(_metrics_token) < metrics.TOKEN_MIN_LENGTH:
    raise env.ConfigError(
        f"METRICS_TOKEN must be at least {metrics.TOKEN_MIN_LENGTH} characters"
    )

# Logs: one JSON object per line in production, plain text in development.
LOG_FORMAT = env.string("LOG_FORMAT", "plain" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in logformat.FORMATS:
    raise env.ConfigError(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
# One access line per request (the server's), by default in development only.
ACCESS_LOG = env.boolean("ACCESS_LOG", default=DEBUG)
LOGGING = logformat.logging_config(
    LOG_FORMAT, env.string("LOG_LEVEL", "INFO"), access=ACCESS_LOG
)
