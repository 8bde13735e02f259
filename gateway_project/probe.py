"""Ask the server in this container whether it is live or ready.

``python -m gateway_project.probe [/healthz|/readyz]`` exits 0 when the
server on ``127.0.0.1:$PORT`` answers the path with 200, and 1 otherwise. It
is the image's HEALTHCHECK and the Kubernetes probes' command, and it imports
no Django: a probe runs every few seconds.

The request names the first of ``ALLOWED_HOSTS`` as its host, since Django
refuses any other, and says it arrived over https, as the TLS-terminating
proxy in front does (trusted only with ``TRUST_X_FORWARDED_PROTO=true``).
Redirects are never followed: they would lead away from this container.
"""

from __future__ import annotations

import http.client
import sys

from gateway_project import env

PATHS = ("/healthz", "/readyz")


def host_header(allowed_hosts: list[str]) -> str:
    """Return a host name that ``ALLOWED_HOSTS`` accepts."""
    for pattern in allowed_hosts:
        if pattern != "*":
            return pattern.lstrip(".")
    return "localhost"


def probe(path: str, *, port: int, host: str, timeout: float = 5.0) -> str | None:
    """Return None if ``path`` answers 200, else why it did not."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            "GET", path, headers={"Host": host, "X-Forwarded-Proto": "https"}
        )
        response = connection.getresponse()
    except OSError as exc:
        return f"no answer on port {port} ({type(exc).__name__})"
    finally:
        connection.close()
    if response.status == 200:
        return None
    if 300 <= response.status < 400:
        return (
            f"{path} redirects to https: set TRUST_X_FORWARDED_PROTO=true "
            "behind a TLS-terminating proxy"
        )
    return f"{path} answered {response.status}"


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "/healthz"
    if path not in PATHS:
        return _failed(f"the path must be one of {', '.join(PATHS)}")
    try:
        port = env.integer("PORT", 8000, minimum=1)
        host = host_header(env.csv("ALLOWED_HOSTS", ["localhost"]))
    except env.ConfigError as exc:
        return _failed(str(exc))
    failure = probe(path, port=port, host=host)
    return _failed(failure) if failure else 0


def _failed(reason: str) -> int:
    # Docker reserves exit status 2; any failure is 1, "unhealthy".
    print(f"probe: {reason}", file=sys.stderr)  # noqa: T201
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
