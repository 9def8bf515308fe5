"""A solve job's progress as a server-sent event stream, for the API and the pages alike."""

from __future__ import annotations

import json
import threading
import time

from flask import Response, current_app, stream_with_context

from ..errors import StaffingError
from ..extensions import db
from . import operations as ops
from .models import SolveJob
from .schemas import SolveJobSchema

EVENT_EVERY = 0.25  # seconds between two looks at the job
EVENT_KEEPALIVE = 0.7  # seconds: the state is sent again after this long (so within a second)
STREAM_MARGIN = 120.0  # seconds a stream outlives its job's time limit before it closes
STREAM_SECONDS = 600.0  # seconds one stream lasts at most (the client then reconnects)


class TooManyStreams(StaffingError):
    status = 503


_open_streams: dict[int, threading.BoundedSemaphore] = {}
_open_lock = threading.Lock()


def _slots(app) -> threading.BoundedSemaphore:
    """This process's event streams at once (EVENT_STREAMS): each holds a server thread for
    as long as it is open, so the rest stay free for every other request."""
    with _open_lock:
        slots = _open_streams.get(id(app))
        if slots is None:
            slots = _open_streams[id(app)] = threading.BoundedSemaphore(
                int(app.config.get("EVENT_STREAMS") or 4))
        return slots


def event_response(job: SolveJob) -> Response:
    """`progress` events with the job (as the API shows it) at least once a second while it
    is queued or running, then one `end` with its final state. A stream lasts at most
    STREAM_SECONDS (the client reconnects, as browsers do by themselves); when this process
    has EVENT_STREAMS open already it answers 503 (poll GET on the job instead). The reader's
    access was checked with the job; no transaction is held between two looks."""
    slots = _slots(current_app)
    if not slots.acquire(blocking=False):
        error = TooManyStreams("too many event streams are open on this server; poll "
                               f"GET /api/v1/solve-jobs/{job.id} instead, or try again")
        raise error
    limit = min(job.time_limit + STREAM_MARGIN, STREAM_SECONDS)
    job_id = job.id
    db.session.rollback()
    response = Response(stream_with_context(_events(job_id, limit)),
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(slots.release)  # when the server closes it, read to its end or not
    return response


def _events(job_id: int, limit: float):
    schema = SolveJobSchema()
    started = time.monotonic()
    sent_at, last, number = -EVENT_KEEPALIVE, None, 0
    try:
        yield "retry: 1000\n\n"
        while True:
            job = db.session.get(SolveJob, job_id, populate_existing=True)
            if job is None:  # deleted with its project meanwhile
                yield (f"id: {number + 1}\nevent: end\ndata: "
                       f"{json.dumps({'id': job_id, 'status': 'deleted'})}\n\n")
                return
            if job.status == "running" and ops.fail_orphaned_jobs(job_id=job_id):
                db.session.commit()
            body = json.dumps(schema.dump(ops.job_view(job)), sort_keys=True)
            finished = not job.is_active
            db.session.rollback()
            now = time.monotonic()
            if finished or body != last or now - sent_at >= EVENT_KEEPALIVE:
                number += 1
                kind = "end" if finished else "progress"
                yield f"id: {number}\nevent: {kind}\ndata: {body}\n\n"
                sent_at, last = now, body
            if finished or now - started > limit:
                return
            time.sleep(EVENT_EVERY)
    finally:
        db.session.remove()
