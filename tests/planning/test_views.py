"""The plans page and a solve's page, as the lead's coordinator uses them (jobs run inline)."""

import re

import sqlalchemy as sa

from staffing.planning.models import SolveJob

from ..projects.test_views import page_text, sign_in
from .conftest import queued_job


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def start(client, rollout, **fields):
    path = f"/projects/{rollout['project'].id}/plans"
    data = {"csrf_token": csrf(client, path), **fields}
    return client.post(f"/projects/{rollout['project'].id}/solve-jobs", data=data)


def test_a_solve_started_from_the_form_ends_on_its_page(client, db, rollout):
    sign_in(client, rollout["lead_user"])
    response = start(client, rollout, time_limit="2", seed="")
    job = db.session.scalar(sa.select(SolveJob))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/solve-jobs/{job.id}"
    page = page_text(client, f"/solve-jobs/{job.id}")
    assert f'Stored as <a href="/plans/{job.plan_id}">plan version 1</a> (a draft).' in page
    assert ">done<" in page
    assert "Stop" not in page
    plans = page_text(client, f"/projects/{rollout['project'].id}/plans")
    assert f"#{job.id}</a>" in plans and "EUR" in plans and "current" in plans
    assert "<th>By</th>" in plans and f"<td>{rollout['lead_user'].name}</td>" in plans


def test_the_form_answers_bad_input_beside_the_field_and_starts_nothing(client, db, rollout):
    sign_in(client, rollout["lead_user"])
    response = start(client, rollout, time_limit="4000")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="time_limit-error"' in page and "less than or equal to 3600" in page
    assert 'value="4000"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SolveJob)) == 0


def test_a_second_solve_names_the_one_under_way(client, db, rollout):
    waiting = queued_job(db, rollout)
    sign_in(client, rollout["lead_user"])
    response = start(client, rollout, time_limit="5")
    assert response.status_code == 409
    assert f"solve job {waiting.id} is queued for this project" in response.get_data(
        as_text=True)


def test_stop_takes_a_queued_solve_off_and_a_second_stop_says_it_has_ended(client, db,
                                                                           rollout):
    job = queued_job(db, rollout)
    sign_in(client, rollout["lead_user"])
    path = f"/solve-jobs/{job.id}"
    page = page_text(client, path)
    assert "position 1 in the queue" in page and "Stop" in page
    token = csrf(client, path)
    assert client.post(f"{path}/cancel", data={"csrf_token": token}).status_code == 303
    assert ">cancelled<" in page_text(client, path)
    again = client.post(f"{path}/cancel", data={"csrf_token": token})
    assert again.status_code == 409
    assert "has already finished (cancelled)" in again.get_data(as_text=True)


def test_a_stop_without_the_form_token_is_refused(client, db, rollout):
    job = queued_job(db, rollout)
    sign_in(client, rollout["lead_user"])
    assert client.post(f"/solve-jobs/{job.id}/cancel").status_code == 400
    db.session.refresh(job)
    assert job.status == "queued"


def test_partners_see_shared_plans_without_solves_or_costs(client, db, rollout, create_user):
    partner = create_user(firm=rollout["north"], role="coordinator")
    sign_in(client, partner)
    page = page_text(client, f"/projects/{rollout['project'].id}/plans")
    assert "Plans shared with your firm" in page and "No plan yet." in page
    assert "Start solve" not in page and "Recent solves" not in page
