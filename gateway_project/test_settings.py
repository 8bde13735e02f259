"""Settings for the test suite: fixed test secrets, fast bcrypt, private upstreams.

``make test`` points ``DATABASE_URL`` and ``REDIS_URL`` at the real PostgreSQL
and Redis; without them the suite runs on SQLite and local memory.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("AUTH_SECRET", "test-only-auth-secret-" + "x" * 40)
os.environ.setdefault(
    "MASTER_KEYS", "test1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)
os.environ.setdefault(
    "WARDEN_DATA_DIR", os.path.join(tempfile.gettempdir(), "warden-test")
)
os.environ.setdefault("UPSTREAM_ALLOW_PRIVATE_NETWORKS", "true")
os.environ.setdefault("USAGE_FLUSH_SECONDS", "0.02")
os.environ.setdefault("BCRYPT_ROUNDS", "4")
# Every test client is 127.0.0.1; the throttle's own tests lower this again.
os.environ.setdefault("KEY_FAILURE_LIMIT", "10000")
os.environ.setdefault("SIGNIN_FAILURES_PER_NAME", "10000")
os.environ.setdefault("SIGNIN_FAILURES_PER_ADDRESS", "10000")
os.environ.setdefault("AUTH_FORM_POSTS_PER_ADDRESS", "100000/m")
os.environ.setdefault("AUTH_FORM_POSTS_PER_ACCOUNT", "100000/m")
os.environ.setdefault("API_REQUESTS_PER_ADDRESS", "100000/m")
os.environ.setdefault("API_REQUESTS_PER_ACCOUNT", "100000/m")
# The suite runs as this role, as production does (see tests/conftest.py).
os.environ.setdefault("DATABASE_APP_ROLE", "warden_app")
os.environ.setdefault("DATABASE_GATEWAY_ROLE", "warden_gateway")
os.environ.setdefault("CACHE_KEY_PREFIX", f"warden-test-{os.getpid()}")

from gateway_project.settings import *  # noqa: E402,F403
from gateway_project.settings import DATA_DIR, DATABASES, STATIC_ROOT  # noqa: E402

# WhiteNoise warns on every request when the collected-static folder is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so a gateway server process started by a test can
    # open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# Every test client is 127.0.0.1: allauth's own limits would stop the suite's
# many sign-ins; the tests of those limits turn them back on.
ACCOUNT_RATE_LIMITS = False
