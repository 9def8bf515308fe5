"""Capacity offers: what a firm declares it can do on a project. Rates, travel cost and shares
are sealed: only the firm itself and the lead coordinators ever read them."""

import sqlalchemy as sa

from ...access import (
    can_edit_offer,
    can_read_offer,
    get_project_for,
    is_lead_coordinator,
    membership_of,
)
from ...errors import Forbidden, InvalidInput, NotFound
from ...extensions import db
from ...projects.models import Project, Skill
from ..models import Availability, CapacityOffer, OfferSkill, User


def list_offers(actor: User, project: Project, firm_id: int | None = None) -> sa.Select:
    """Every offer for the lead coordinators; the actor's own firm's offer for anyone else."""
    query = sa.select(CapacityOffer).filter_by(project_id=project.id).order_by(CapacityOffer.id)
    if not is_lead_coordinator(actor, project):
        query = query.where(CapacityOffer.firm_id == actor.firm_id)
    if firm_id is not None:
        query = query.where(CapacityOffer.firm_id == firm_id)
    return query


def get_offer(actor: User, offer_id: int) -> CapacityOffer:
    offer = db.session.get(CapacityOffer, offer_id)
    if offer is None:
        raise NotFound("capacity offer")
    project = get_project_for(actor, offer.project_id)
    if not can_read_offer(actor, offer, project):
        raise NotFound("capacity offer")
    return offer


def _offering_firm(actor: User, project: Project, firm_id: int | None) -> int:
    """The firm the new offer is for: the actor's own, or (lead coordinators) a partner's."""
    firm_id = actor.firm_id if firm_id is None else firm_id
    if not can_edit_offer(actor, firm_id, project):
        raise Forbidden("only the firm's coordinators or the lead's may enter its offer")
    if firm_id != project.lead_firm_id:
        membership = membership_of(firm_id, project)
        if membership is None or membership.status != "accepted":
            raise InvalidInput.field("firm_id", "the firm has not accepted an invitation")
    if db.session.scalar(sa.select(CapacityOffer.id).filter_by(project_id=project.id,
                                                               firm_id=firm_id)):
        raise InvalidInput.field("firm_id", "the firm already has an offer; change it instead")
    return firm_id


def _skills(project: Project, entries: list[dict]) -> list[OfferSkill]:
    known = set(db.session.scalars(sa.select(Skill.id).filter_by(project_id=project.id)))
    seen = set()
    skills = []
    for index, entry in enumerate(entries):
        if entry["skill_id"] not in known:
            raise InvalidInput("skills: unknown skill",
                               {"skills": {str(index): {"skill_id": ["no such skill in "
                                                                     "this project"]}}})
        if entry["skill_id"] in seen:
            raise InvalidInput("skills: a skill is listed twice",
                               {"skills": {str(index): {"skill_id": ["listed twice"]}}})
        seen.add(entry["skill_id"])
        skills.append(OfferSkill(**entry))
    return skills


def _check_shares(minimum, maximum) -> None:
    if minimum > maximum:
        raise InvalidInput.field("max_share_percent", "must not be below min_share_percent")


def create_offer(actor: User, project: Project, fields: dict) -> CapacityOffer:
    fields = dict(fields)
    firm_id = _offering_firm(actor, project, fields.pop("firm_id", None))
    skills = _skills(project, fields.pop("skills", []))
    availability = [Availability(**entry) for entry in fields.pop("availability", [])]
    _check_shares(fields.get("min_share_percent", 0), fields.get("max_share_percent", 100))
    offer = CapacityOffer(project_id=project.id, firm_id=firm_id, skills=skills,
                          availability=availability, **fields)
    db.session.add(offer)
    db.session.flush()
    return offer


def update_offer(actor: User, offer: CapacityOffer, fields: dict) -> CapacityOffer:
    """Change the offer; skills and availability, when given, replace the old lists."""
    project = db.session.get(Project, offer.project_id)
    if not can_edit_offer(actor, offer.firm_id, project):
        raise Forbidden("only the firm's coordinators or the lead's may change its offer")
    fields = dict(fields)
    _check_shares(fields.get("min_share_percent", offer.min_share_percent),
                  fields.get("max_share_percent", offer.max_share_percent))
    # Old rows go in a flush of their own: a replaced skill would clash with its successor.
    if "skills" in fields:
        skills = _skills(project, fields.pop("skills"))
        offer.skills = []
        db.session.flush()
        offer.skills = skills
    if "availability" in fields:
        offer.availability = [Availability(**entry) for entry in fields.pop("availability")]
    for key, value in fields.items():
        setattr(offer, key, value)
    db.session.flush()
    return offer


def delete_offer(actor: User, offer: CapacityOffer) -> None:
    project = db.session.get(Project, offer.project_id)
    if not can_edit_offer(actor, offer.firm_id, project):
        raise Forbidden("only the firm's coordinators or the lead's may withdraw its offer")
    db.session.delete(offer)
    db.session.flush()
