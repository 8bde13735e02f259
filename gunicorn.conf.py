"""gunicorn's settings for Warden, read by ``gunicorn -c gunicorn.conf.py``.

The worker is ``gateway_project.worker.UvicornWorker`` (forwarding headers
only from ``TRUSTED_PROXIES``). ``TLS_CERT_FILE`` and ``TLS_KEY_FILE`` (PEM
files: the certificate with its chain, and its key) make the server speak
https itself, TLS 1.2 and newer; set both or neither. The server's own lines
get the application's log format and masking, and the workers share a folder
for the metrics, emptied at start; a worker that exits has its gauges
dropped. Command-line options still apply on top.
"""

import sys

from gateway_project import env, logformat, metrics

worker_class = "gateway_project.worker.UvicornWorker"

try:
    certfile = env.readable_file("TLS_CERT_FILE") or None
    keyfile = env.readable_file("TLS_KEY_FILE") or None
except env.ConfigError as exc:
    sys.exit(f"warden: configuration error: {exc}")
if bool(certfile) != bool(keyfile):
    sys.exit("warden: configuration error: set both TLS_CERT_FILE and TLS_KEY_FILE")

_new_folder = metrics.share_folder(env.string("METRICS_DIR"))
_debug = env.boolean("DEBUG", default=True)
logconfig_dict = logformat.logging_config(
    env.string("LOG_FORMAT", "plain" if _debug else "json").strip().lower(),
    env.string("LOG_LEVEL", "INFO"),
    access=env.boolean("ACCESS_LOG", default=_debug),
)


def on_starting(server):
    metrics.empty_folder()


def child_exit(server, worker):
    metrics.worker_exited(worker.pid)


def on_exit(server):
    if _new_folder:
        metrics.remove_folder()
