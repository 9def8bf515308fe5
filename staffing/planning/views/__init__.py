"""HTML pages of the planning domain: plans and solves (solves.py), a plan and its
assignments at the coordinator's desk (plans.py)."""

from . import plans, solves  # noqa: F401  (their routes)
from .blueprint import web  # noqa: F401
