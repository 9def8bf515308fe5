"""gunicorn's settings for the service: gunicorn -c gunicorn.conf.py 'staffing:create_app()'.

GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_KEEPALIVE and LOG_LEVEL change the
values below; GUNICORN_CMD_ARGS (gunicorn's own, e.g. "--timeout 60") overrides any setting.
"""

import os
import secrets

# Development without SECRET_KEY: one random key for all workers, set here in the master before
# it forks them (each worker making its own would break sign-in and forms between workers).
if os.environ.get("STAFFING_ENV") in ("development", "test") and not os.environ.get("SECRET_KEY"):
    os.environ["SECRET_KEY"] = secrets.token_hex(32)

# Where to listen. All interfaces, so that a container's published port reaches it; put a
# proxy that speaks HTTPS in front (outside development the session cookies are Secure).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Worker processes. Each is a whole copy of the app with its own database connections and,
# with the embedded solve backend (no REDIS_URL), its own pool of solver processes; together
# they run at most STAFFING_SOLVE_PROCESSES solves at once on the machine.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Threads, not sync workers: a sync worker stops heartbeating while it serves a request, so
# the master would kill it after `timeout` seconds, in the middle of a solve job's event stream
# (/api/v1/solve-jobs/{id}/events stays open as long as the solve runs). A gthread worker's
# main loop keeps heartbeating while its threads serve requests.
worker_class = "gthread"

# Requests one worker serves at once. Each open event stream holds one thread until its job
# ends (or for 10 minutes, then the client reconnects); STAFFING_EVENT_STREAMS (4) caps the
# streams a worker keeps open, and beyond it a stream answers 503, so the other threads stay
# free for every other request.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))

# Seconds a worker's main loop may stay silent before the master kills and restarts it. With
# gthread this catches a hung process, not a slow request; solves never run in a request.
timeout = 30

# Seconds a worker gets, after SIGTERM or a reload, to finish its requests before it is killed.
# Open event streams are cut then; browsers reconnect by themselves (the stream sends
# `retry: 1000`), other clients poll GET /api/v1/solve-jobs/{id}. A worker whose embedded pool
# is solving waits for it at exit, so it uses all of this and is killed; the solve goes on in
# its solver process and is stored.
graceful_timeout = 30

# Seconds an idle keep-alive connection stays open. A little above gunicorn's 2 s, so that a
# client polling a job every second reuses its connection; behind a load balancer, make it
# longer than the balancer's own idle timeout.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Access log to stdout and errors to stderr: the container runtime or systemd collects both.
# An event stream's line is written when the stream ends.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# The heartbeat file in memory: on a container's overlay file system the write can block the
# worker long enough for the master to think it hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def post_worker_init(worker):
    """Start the worker's solve dispatcher at once (with the embedded backend), not at its
    first request: jobs orphaned by a process that died are failed, and queued ones run, as
    soon as the service is back."""
    from staffing.planning.queue import start_embedded

    start_embedded(worker.wsgi)
