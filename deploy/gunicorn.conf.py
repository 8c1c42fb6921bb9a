"""Gunicorn for Bangfu (docs/deploy.md): `make serve`, or `gunicorn --config deploy/gunicorn.conf.py` from systemd.

Everything comes from the environment, so one file serves every machine. The app processes keep no state of their
own (sessions in the database, rate-limit counters in Redis, files on the shared volume): add processes or machines
to scale out.
"""

import os

wsgi_app = "bangfu.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers, one request each: about two per CPU core on a machine that also runs nothing else heavy.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Exports up to EXPORT_INLINE_ROWS rows and PDF reports are written in the request; nginx waits as long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak cannot grow for weeks.
max_requests = 2000
max_requests_jitter = 200
# Only nginx on this machine may say the request came over HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# systemd stops and reloads by signal; no control socket, so several servers can share a machine.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
