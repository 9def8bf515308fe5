"""Rollout projects, their skill catalogue, sites and the work items at each site."""

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..dbtypes import DateList, IntList, UTCDateTime, utcnow
from ..extensions import db

WORK_KINDS = ("server", "desktop_batch", "network", "other")
SITE_FACE_POLICIES = ("none", "sole", "lead")
OBJECTIVE_TERMS = ("coverage", "cost", "lateness", "fairness", "continuity", "stability")
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday is 1

work_item_dependency = sa.Table(
    "work_item_dependency",
    db.metadata,
    sa.Column(
        "work_item_id", sa.ForeignKey("work_item.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "depends_on_id", sa.ForeignKey("work_item.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Project(db.Model):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    client_name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(4000), default="")
    start_on: Mapped[dt.date] = mapped_column()
    end_on: Mapped[dt.date] = mapped_column()
    working_weekdays: Mapped[list[int]] = mapped_column(IntList, default=lambda: [1, 2, 3, 4, 5])
    holidays: Mapped[list[dt.date]] = mapped_column(DateList, default=list)
    max_firms_per_site: Mapped[int] = mapped_column(default=2)
    site_face_policy: Mapped[str] = mapped_column(sa.String(10), default="lead")
    objective_priorities: Mapped[list[str]] = mapped_column(
        sa.JSON, default=lambda: list(OBJECTIVE_TERMS)
    )
    # each firm's share of hours in the approved plans so far moves its fairness target
    carries_fair_share: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # renewed by every change to what the planner reads of the project (planning.inputs)
    inputs_version: Mapped[str] = mapped_column(
        sa.String(32), default=lambda: uuid.uuid4().hex, server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead_firm: Mapped["Firm"] = relationship()  # noqa: F821
    sites: Mapped[list["Site"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.UniqueConstraint("lead_firm_id", "name"),
        sa.CheckConstraint("end_on >= start_on", name="dates_ordered"),
        sa.CheckConstraint("max_firms_per_site >= 1", name="max_firms_positive"),
        sa.CheckConstraint("site_face_policy IN ('none', 'sole', 'lead')", name="face_known"),
    )


class Skill(db.Model):
    """An entry of a project's skill catalogue, e.g. code 'sqlserver', name 'SQL Server'."""

    __tablename__ = "skill"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(50))
    name: Mapped[str] = mapped_column(sa.String(200))

    __table_args__ = (sa.UniqueConstraint("project_id", "code"),)


class Site(db.Model):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    ready_on: Mapped[dt.date | None] = mapped_column()
    access_weekdays: Mapped[list[int]] = mapped_column(IntList, default=lambda: [1, 2, 3, 4, 5])
    blackout_dates: Mapped[list[dt.date]] = mapped_column(DateList, default=list)

    project: Mapped[Project] = relationship(back_populates="sites")
    work_items: Mapped[list["WorkItem"]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WorkItem.id",
    )

    __table_args__ = (
        sa.UniqueConstraint("project_id", "name"),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )


class WorkItem(db.Model):
    """Work at one site: quantity units of effort_hours each, done by crews of crew_size."""

    __tablename__ = "work_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(sa.String(50))
    kind: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    skill_id: Mapped[int] = mapped_column(sa.ForeignKey("skill.id"), index=True)
    min_proficiency: Mapped[int] = mapped_column(default=1)
    effort_hours: Mapped[float] = mapped_column(sa.Float)
    quantity: Mapped[int] = mapped_column(default=1)
    crew_size: Mapped[int] = mapped_column(default=1)
    earliest_on: Mapped[dt.date | None] = mapped_column()
    due_on: Mapped[dt.date | None] = mapped_column()

    site: Mapped[Site] = relationship(back_populates="work_items")
    skill: Mapped[Skill] = relationship()
    depends_on: Mapped[list["WorkItem"]] = relationship(
        secondary=work_item_dependency,
        primaryjoin=lambda: WorkItem.id == work_item_dependency.c.work_item_id,
        secondaryjoin=lambda: WorkItem.id == work_item_dependency.c.depends_on_id,
        order_by=lambda: WorkItem.id,
    )

    __table_args__ = (
        sa.UniqueConstraint("project_id", "ref"),
        sa.CheckConstraint(
            "kind IN ('server', 'desktop_batch', 'network', 'other')", name="kind_known"
        ),
        sa.CheckConstraint("min_proficiency BETWEEN 1 AND 5", name="proficiency_range"),
        sa.CheckConstraint("effort_hours > 0", name="effort_positive"),
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
        sa.CheckConstraint("crew_size >= 1", name="crew_positive"),
        sa.CheckConstraint(
            "due_on IS NULL OR earliest_on IS NULL OR due_on >= earliest_on", name="dates_ordered"
        ),
    )

    @property
    def total_hours(self) -> float:
        return self.effort_hours * self.quantity
