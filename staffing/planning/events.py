"""A solve job's progress as a server-sent event stream, for the API and the pages alike."""

from __future__ import annotations

import json
import time

from flask import Response, stream_with_context

from ..extensions import db
from . import operations as ops
from .models import SolveJob
from .schemas import SolveJobSchema

EVENT_EVERY = 0.5  # seconds between two looks at the job
EVENT_KEEPALIVE = 1.0  # seconds: the state is sent again at least this often
STREAM_MARGIN = 120.0  # seconds a stream outlives its job's time limit before it closes


def event_response(job: SolveJob) -> Response:
    """`progress` events with the job (as the API shows it) at least once a second while it
    is queued or running, then one `end` with its final state. The reader's access was
    checked with the job; no transaction is held between two looks."""
    limit = job.time_limit + STREAM_MARGIN
    job_id = job.id
    db.session.rollback()
    return Response(stream_with_context(_events(job_id, limit)), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _events(job_id: int, limit: float):
    schema = SolveJobSchema()
    started = time.monotonic()
    sent_at, last, number = -EVENT_KEEPALIVE, None, 0
    yield "retry: 1000\n\n"
    try:
        while True:
            job = db.session.get(SolveJob, job_id, populate_existing=True)
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
