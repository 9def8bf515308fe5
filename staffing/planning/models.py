"""Plans (versions of who does what) and their assignments; the solver fills them."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db

PLAN_STATUSES = ("draft", "proposed", "approved", "superseded")
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB_STATUSES = ("queued", "running")
FINISHED_JOB_STATUSES = ("done", "failed", "cancelled")


class Plan(db.Model):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    solver_status: Mapped[str | None] = mapped_column(sa.String(30))
    objective: Mapped[float | None] = mapped_column(sa.Float)
    notes: Mapped[str] = mapped_column(sa.String(4000), default="")
    # the solver's report: terms, bound, gap, unassigned items with reasons, explanations,
    # per-firm and per-site figures (sealed figures are filtered per reader by the API)
    summary: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # euros of rates and travel of the assignments, apart from the weighted objective
    cost: Mapped[float | None] = mapped_column(sa.Float)
    travel_cost: Mapped[float | None] = mapped_column(sa.Float)
    # SHA-256 of the inputs the planner read (sites, items, offers, exclusions, policy):
    # when the project's inputs hash differently now, the plan is stale
    input_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    is_stopped_early: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.UniqueConstraint("project_id", "version"),
        sa.CheckConstraint(
            "status IN ('draft', 'proposed', 'approved', 'superseded')", name="status_known"
        ),
    )


class Assignment(db.Model):
    """One work item given to one firm on a date range, and what of it is locked."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    work_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("work_item.id", ondelete="CASCADE"), index=True
    )
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    start_on: Mapped[dt.date] = mapped_column()
    end_on: Mapped[dt.date] = mapped_column()
    hours: Mapped[float] = mapped_column(sa.Float)
    is_firm_locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_date_locked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    plan: Mapped[Plan] = relationship(back_populates="assignments")

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "work_item_id"),
        sa.CheckConstraint("end_on >= start_on", name="dates_ordered"),
        sa.CheckConstraint("hours > 0", name="hours_positive"),
    )


class SolveJob(db.Model):
    """One run of the planner: a row first, a queue message second. It moves
    queued -> running -> done | failed | cancelled; the instance it solves is kept as the
    planner read it, so its plan can be reproduced with `staffing solve`."""

    __tablename__ = "solve_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), default="queued", index=True)
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    base_plan_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan.id", ondelete="SET NULL")
    )
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan.id", ondelete="SET NULL"))
    time_limit: Mapped[float] = mapped_column(sa.Float)
    seed: Mapped[int] = mapped_column(default=0)
    workers: Mapped[int] = mapped_column(default=2)
    backend: Mapped[str] = mapped_column(sa.String(20))  # inline | embedded | rq
    instance: Mapped[dict] = mapped_column(sa.JSON)  # the instance file the planner reads
    input_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # the latest report: phase, elapsed, objective, bound, gap, assigned, cost, terms
    progress: Mapped[dict | None] = mapped_column(sa.JSON)
    worker: Mapped[str | None] = mapped_column(sa.String(200))  # host:pid of the runner
    error: Mapped[str | None] = mapped_column(sa.String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name="status_known",
        ),
        sa.CheckConstraint("time_limit > 0", name="time_limit_positive"),
        # at most one queued or running solve per project (the operation answers 409 first;
        # this is the backstop for two requests at once)
        sa.Index("uq_solve_job_active_project", "project_id", unique=True,
                 sqlite_where=sa.text("status IN ('queued', 'running')"),
                 postgresql_where=sa.text("status IN ('queued', 'running')")),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES


class Ban(db.Model):
    """A firm barred from one work item by the lead's coordinators (the planner's ban rule):
    no plan made after it gives that item to that firm."""

    __tablename__ = "ban"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    work_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("work_item.id", ondelete="CASCADE"), index=True
    )
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("work_item_id", "firm_id"),)


ADJUSTMENT_ACTIONS = ("lock", "move")


class Adjustment(db.Model):
    """One manual change to a plan's assignment: who, when, what it was and what it became
    (firm, dates, hours, locks). `lock` changes only the locks (locking or unlocking);
    `move` changes the firm or the dates (and the locks with them)."""

    __tablename__ = "adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="SET NULL"), index=True
    )
    work_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("work_item.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(20))
    before: Mapped[dict] = mapped_column(sa.JSON)
    after: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("action IN ('lock', 'move')", name="action_known"),
    )
