"""Operations of the planning domain. They take the actor, check access, flush, never commit
(except the job runner, which commits its progress and its result in short transactions of
its own, as a job must)."""

from .adjust import (  # noqa: F401
    candidates,
    change_assignment,
    get_assignment,
    list_adjustments,
)
from .bans import create_ban, delete_ban, get_ban, list_bans  # noqa: F401
from .compare import base_of, compare_plans, previous_plan  # noqa: F401
from .jobs import (  # noqa: F401
    cancel_job,
    fail_orphaned_jobs,
    get_job,
    job_view,
    list_jobs,
    start_solve,
)
from .plans import (  # noqa: F401
    get_plan,
    list_plans,
    plan_list_view,
    plan_view,
    update_plan,
)
from .runner import run_solve_job  # noqa: F401
