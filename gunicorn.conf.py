"""gunicorn's settings for Warden, read by ``gunicorn -c gunicorn.conf.py``.

The worker is ``gateway_project.worker.UvicornWorker``. ``TLS_CERT_FILE`` and
``TLS_KEY_FILE`` (PEM files: the certificate with its chain, and its key) make
the server speak https itself, TLS 1.2 and newer; set both or neither.
"""

import sys

from gateway_project import env

worker_class = "gateway_project.worker.UvicornWorker"

try:
    certfile = env.readable_file("TLS_CERT_FILE") or None
    keyfile = env.readable_file("TLS_KEY_FILE") or None
except env.ConfigError as exc:
    sys.exit(f"warden: configuration error: {exc}")
if bool(certfile) != bool(keyfile):
    sys.exit("warden: configuration error: set both TLS_CERT_FILE and TLS_KEY_FILE")
