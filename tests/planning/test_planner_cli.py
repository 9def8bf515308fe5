"""`staffing generate | solve | check` and `staffing project export | import`."""

import json

import pytest
import sqlalchemy as sa

from solver.instance import load_problem
from staffing.cli import main
from staffing.projects.models import Project, WorkItem


@pytest.fixture
def invoke(runner):
    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def test_generate_solve_check(invoke, tmp_path):
    instance, plan = tmp_path / "i.json", tmp_path / "p.json"
    made = invoke("generate", "--sites", "4", "--firms", "3", "--days", "10", "--seed", "3",
                  "-o", str(instance))
    assert made.exit_code == 0 and "4 sites" in made.output
    solved = invoke("solve", str(instance), "--time-limit", "5", "--plan-out", str(plan))
    assert solved.exit_code == 0, solved.output
    assert "status " in solved.output and "work items assigned" in solved.output
    checked = invoke("check", str(instance), str(plan))
    assert checked.exit_code == 0 and "no violation" in checked.output


def test_solve_json_and_check_finds_a_broken_plan(invoke, tmp_path):
    instance, plan = tmp_path / "i.json", tmp_path / "p.json"
    invoke("generate", "--sites", "3", "--firms", "3", "--days", "8", "-o", str(instance))
    result = json.loads(invoke("solve", str(instance), "--json", "--time-limit", "3",
                               "--plan-out", str(plan)).output)
    assert result["status"] in ("optimal", "feasible") and result["assignments"]
    broken = json.loads(plan.read_text())
    broken["assignments"][0]["firm"] = "nobody"
    plan.write_text(json.dumps(broken))
    checked = invoke("check", str(instance), str(plan))
    assert checked.exit_code == 1 and "violation(s)" in checked.output


def test_bad_instance_is_a_clean_error(invoke, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "staffing-instance", "version": 1, "items": []}')
    result = invoke("solve", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "bad.json" in result.output


def test_project_export_import_round_trip(invoke, db, tmp_path):
    assert invoke("demo", "--no-migrate").exit_code == 0
    demo = db.session.scalar(sa.select(Project).order_by(Project.id))
    exported = tmp_path / "demo.json"
    result = invoke("project", "export", str(demo.id), "-o", str(exported))
    assert result.exit_code == 0, result.output
    problem = load_problem(exported)
    assert len(problem.sites) == 13 and len(problem.firms) == 8
    imported = invoke("project", "import", str(exported), "--lead-firm-id",
                      str(demo.lead_firm_id),
                      "--name", "Copy of the demo")
    assert imported.exit_code == 0, imported.output
    copy = db.session.scalar(sa.select(Project).filter_by(name="Copy of the demo"))
    items = db.session.scalars(sa.select(WorkItem).filter_by(project_id=copy.id)).all()
    assert len(items) == len(problem.items)
    assert sum(len(i.depends_on) for i in items) == sum(len(i.depends_on)
                                                        for i in problem.items)
    again = tmp_path / "copy.json"
    invoke("project", "export", str(copy.id), "-o", str(again))
    copied = load_problem(again)
    assert sorted(i.hours for i in copied.items) == sorted(i.hours for i in problem.items)
    assert {f.name for f in copied.firms} == {f.name for f in problem.firms}
    assert copied.working_days == problem.working_days
