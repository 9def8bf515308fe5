"""Firms, their users and API tokens, project memberships, capacity offers and exclusions."""

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..dbtypes import DateList, UTCDateTime, utcnow
from ..extensions import db

ROLES = ("admin", "coordinator", "member")
MEMBERSHIP_STATUSES = ("invited", "accepted", "declined", "withdrawn")


class Firm(db.Model):
    __tablename__ = "firm"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="firm")

    __table_args__ = (
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20), default="member")
    is_operator: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    firm: Mapped[Firm] = relationship(back_populates="users")
    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.CheckConstraint("role IN ('admin', 'coordinator', 'member')", name="role_known"),
    )

    @property
    def is_firm_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_coordinate(self) -> bool:
        """Admins and coordinators act for their firm; members only read."""
        return self.role in ("admin", "coordinator")


class ApiToken(db.Model):
    """A named, revocable bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the token whose request created this one: revoking it revokes this one too
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_token.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship(back_populates="tokens")

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class UserSession(db.Model):
    """A signed-in browser session, kept on the server so that signing out, a password change
    or an admin can end it: the cookie holds a random id, the row its SHA-256 digest."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User] = relationship()

    def is_usable(self, now: dt.datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


class Membership(db.Model):
    """A partner firm invited to a project, and its answer."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="invited")
    message: Mapped[str] = mapped_column(sa.String(1000), default="")
    invited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    firm: Mapped[Firm] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("project_id", "firm_id"),
        sa.CheckConstraint(
            "status IN ('invited', 'accepted', 'declined', 'withdrawn')", name="status_known"
        ),
    )


class CapacityOffer(db.Model):
    """A firm's declaration for one project. Rates, travel cost and shares are sealed."""

    __tablename__ = "capacity_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    travel_radius_km: Mapped[float] = mapped_column(sa.Float)
    travel_cost_per_km: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    min_share_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal(0))
    max_share_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal(100))
    blackout_dates: Mapped[list[dt.date]] = mapped_column(DateList, default=list)
    notes: Mapped[str] = mapped_column(sa.String(2000), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    firm: Mapped[Firm] = relationship()
    skills: Mapped[list["OfferSkill"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="OfferSkill.id"
    )
    availability: Mapped[list["Availability"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Availability.start_on"
    )

    __table_args__ = (
        sa.UniqueConstraint("project_id", "firm_id"),
        sa.CheckConstraint("travel_radius_km >= 0", name="radius_non_negative"),
        sa.CheckConstraint(
            "min_share_percent >= 0 AND max_share_percent <= 100 "
            "AND min_share_percent <= max_share_percent",
            name="share_range",
        ),
    )


class OfferSkill(db.Model):
    """One skill of an offer: proficiency 1-5 and the sealed hourly rate."""

    __tablename__ = "offer_skill"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("capacity_offer.id", ondelete="CASCADE"), index=True
    )
    skill_id: Mapped[int] = mapped_column(sa.ForeignKey("skill.id", ondelete="CASCADE"), index=True)
    proficiency: Mapped[int] = mapped_column()
    hourly_rate: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))

    skill: Mapped["Skill"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("offer_id", "skill_id"),
        sa.CheckConstraint("proficiency BETWEEN 1 AND 5", name="proficiency_range"),
        sa.CheckConstraint("hourly_rate >= 0", name="rate_non_negative"),
    )


class Availability(db.Model):
    """A date range in which the firm offers N technicians for H hours each per working day."""

    __tablename__ = "availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("capacity_offer.id", ondelete="CASCADE"), index=True
    )
    start_on: Mapped[dt.date] = mapped_column()
    end_on: Mapped[dt.date] = mapped_column()
    technicians: Mapped[int] = mapped_column()
    hours_per_technician: Mapped[float] = mapped_column(sa.Float)

    __table_args__ = (
        sa.CheckConstraint("end_on >= start_on", name="range_ordered"),
        sa.CheckConstraint("technicians >= 1", name="technicians_positive"),
        sa.CheckConstraint(
            "hours_per_technician > 0 AND hours_per_technician <= 24", name="hours_range"
        ),
    )


class Exclusion(db.Model):
    """A firm barred from one site, or from the whole client when site_id is null."""

    __tablename__ = "exclusion"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firm.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("site.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    firm: Mapped[Firm] = relationship()
    site: Mapped["Site | None"] = relationship()  # noqa: F821
