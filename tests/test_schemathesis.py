"""The whole OpenAPI fuzzed by schemathesis, in-process through the WSGI app: as a lead
coordinator and as a partner coordinator, on the database the suite runs on.

Every generated case runs against the same small world inside a savepoint that is rolled back
after it, so a case that deletes the actor's own token, user or firm (or the project) leaves
the next case a whole world: nothing is excluded. Solve jobs are queued but not run (the
planner has its own tests; a fuzzed time limit of an hour would stall the run), and no job
is left queued, so an event stream ends at once.

Changes that send If-Match send the current ETag two times in three, so that they get past
the precondition check. The run is deterministic (derandomized, no example database); a failure
lists every operation and check that failed, with the request that reproduces it.
"""

import datetime as dt
import json
import zlib
from contextlib import contextmanager
from decimal import Decimal

import hypothesis
import jsonschema
import pytest
import schemathesis
from hypothesis import strategies as st

from staffing.planning import operations as planning_ops
from staffing.planning import queue
from staffing.planning.models import Plan

MIN_CASES = 1_000  # per role and database
# per operation, beside the examples and coverage phases: 3,672 cases per role in all
FUZZ_EXAMPLES = 5
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance",
          "negative_data_rejection", "missing_required_header", "unsupported_method")

CONFIG = schemathesis.Config.from_dict({
    "seed": 20261212,
    "max-stream-events": 5,
    "request-timeout": 5,
    # allow-extra-parameters false: an unknown query parameter is ignored, as webargs does
    # for query strings (which carry the pagination too), so one is not invalid input
    "generation": {"mode": "all", "deterministic": True, "database": "none",
                   "no-shrink": True, "max-examples": FUZZ_EXAMPLES,
                   "allow-extra-parameters": False},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
               "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS},
               # a change without If-Match is 428 Precondition Required (RFC 6585)
               "missing_required_header": {"enabled": True, "expected-statuses": [
                   400, 401, 403, 406, 415, 422, 428]}},
    "suppress-health-check": ["all"],
})

ROLES = ("lead_coordinator", "partner_coordinator")
_cases: dict[str, int] = {}  # role -> cases run, checked when its world is torn down


@pytest.fixture(params=ROLES)
def fuzz_world(request, db, create_firm, create_user, create_project, create_membership,
               create_site, create_skill, create_work_item, create_offer, create_exclusion,
               auth, monkeypatch):
    """Lead L leads project P with two sites, skills, work items, a done solve with its plan;
    partner A accepted, offered and barred from one site, B invited, O outside. The actor:
    L's coordinator or A's."""
    monkeypatch.setattr(queue, "dispatch", lambda job: None)
    lead, partner_a, partner_b, outsider = (
        create_firm(name=name) for name in ("Lead AG", "Partner A", "Partner B", "Outsider O"))
    project = create_project(lead_firm=lead, start_on=dt.date(2027, 3, 1),
                             end_on=dt.date(2027, 3, 31))
    create_membership(project, partner_a, status="accepted")
    create_membership(project, partner_b, status="invited")
    hamburg, kiel = create_site(project, name="Hamburg"), create_site(project, name="Kiel")
    desktop, server = create_skill(project, code="desktop"), create_skill(project, "winserver")
    first = create_work_item(hamburg, skill=server, ref="HH-SRV", kind="server", quantity=1,
                             effort_hours=8, min_proficiency=1)
    create_work_item(kiel, skill=desktop, ref="KI-DT", quantity=4, effort_hours=2,
                     min_proficiency=1, depends_on=[first])
    create_offer(project, lead, {desktop: (4, "70.00"), server: (4, "90.00")},
                 min_share_percent=0, max_share_percent=100)
    create_offer(project, partner_a, {desktop: (3, "55.00")},
                 travel_cost_per_km=Decimal("0.40"), min_share_percent=0, max_share_percent=60)
    create_exclusion(project, partner_a, hamburg, reason="sister company of the client")
    users = {"lead_coordinator": create_user(firm=lead, role="coordinator"),
             "partner_coordinator": create_user(firm=partner_a, role="coordinator")}
    create_user(firm=outsider, role="admin")
    done = planning_ops.start_solve(users["lead_coordinator"], project, "inline", time_limit=2)
    db.session.commit()
    planning_ops.run_solve_job(done.id)
    db.session.get(Plan, done.plan_id).status = "proposed"
    from staffing.planning.models import Ban
    db.session.add(Ban(project_id=project.id, work_item_id=first.id, firm_id=partner_a.id,
                       reason="declined"))  # after the solve: the plan is stale
    db.session.commit()
    _cases[request.param] = 0
    yield {"role": request.param, "headers": auth(users[request.param]),
           "ids": _world_ids(db)}
    assert _cases[request.param] >= MIN_CASES, \
        f"{request.param}: only {_cases[request.param]} cases ran"


def _world_ids(db) -> dict[str, list[int]]:
    """Path parameter -> the ids of that kind in the world, for the fuzzer to aim at."""
    from staffing.partners.models import (
        ApiToken,
        CapacityOffer,
        Exclusion,
        Firm,
        Membership,
        User,
    )
    from staffing.planning.models import Assignment, Ban, SolveJob
    from staffing.projects.models import Project, Site, Skill, WorkItem

    models = {"project_id": Project, "site_id": Site, "skill_id": Skill, "item_id": WorkItem,
              "firm_id": Firm, "user_id": User, "token_id": ApiToken,
              "membership_id": Membership, "offer_id": CapacityOffer,
              "exclusion_id": Exclusion, "plan_id": Plan, "job_id": SolveJob,
              "work_item_id": WorkItem, "assignment_id": Assignment, "ban_id": Ban}
    return {name: list(db.session.scalars(db.select(model.id).order_by(model.id)))
            for name, model in models.items()}


@pytest.fixture
def api_schema(request, app, fuzz_world):
    # schemathesis' lazy schema reads Node._nodeid, which pytest 9.2 no longer has: give it
    # the id it would have read (it only renames the test in reports)
    request.node._nodeid = request.node.nodeid
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)

    @schema.hook
    def before_generate_path_parameters(context, strategy):
        """Half the time an id of the world, so that fuzzing gets past the 404s."""
        names = [p.name for p in context.operation.path_parameters]
        known = {name: st.sampled_from(fuzz_world["ids"][name]) for name in names
                 if fuzz_world["ids"].get(name)}
        if not known or len(known) < len(names):  # every parameter, or none of them
            return strategy
        return st.one_of(strategy, st.fixed_dictionaries(known))

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@contextmanager
def _rolled_back(db):
    """Run one case in a savepoint of the test's transaction and undo everything it did."""
    savepoint = db.engine.begin_nested()
    try:
        yield
    finally:
        db.session.remove()
        savepoint.rollback()


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_api_conforms_to_its_openapi(case, fuzz_world, db, app):
    _cases[fuzz_world["role"]] += 1
    with _rolled_back(db):
        _with_current_etag(case, app, fuzz_world["headers"])
        case.call_and_validate(headers=fuzz_world["headers"],
                               additional_checks=[pagination_header_is_json])


def _with_current_etag(case, app, headers: dict) -> None:
    """Two changes in three that send If-Match send the current ETag (a generated one is all
    but always stale, a 412), so that fuzzing reaches the operations behind the check; a case
    without If-Match stays without (it tests the 428)."""
    if "If-Match" not in (case.headers or {}) or \
            zlib.crc32(repr((case.path_parameters, case.body)).encode()) % 3 == 0:
        return
    current = app.test_client().get(case.formatted_path, headers=headers)
    if current.status_code == 200 and current.headers.get("ETag"):
        case.headers = {**(case.headers or {}), "If-Match": current.headers["ETag"]}


def pagination_header_is_json(ctx, response, case):
    """X-Pagination, documented as JSON content (which schemathesis does not read), is JSON
    of the documented shape."""
    if "x-pagination" not in response.headers:
        return None
    components = case.operation.schema.raw_schema["components"]["schemas"]
    jsonschema.validate(json.loads(response.headers["x-pagination"][0]),
                        components["PaginationMetadata"] | {"additionalProperties": False})
    return True


def test_openapi_passes_the_validator(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").get_json())
