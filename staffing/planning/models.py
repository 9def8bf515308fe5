"""Plans (versions of who does what) and their assignments; the solver fills them."""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db

PLAN_STATUSES = ("draft", "proposed", "approved", "superseded")


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
