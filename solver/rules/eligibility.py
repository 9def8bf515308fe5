"""Rule 2: eligibility (which options exist; solver.prepare derives them)."""

from __future__ import annotations

RADIUS_TOLERANCE = 1e-6  # km: a site this far beyond a radius is within it (the checker's)

def proficient(offer_proficiency: int, item) -> bool:
    """The firm's proficiency in the item's skill is at least the item's minimum."""
    return offer_proficiency >= item.min_proficiency


def reach_km(firm) -> float:
    """How far from its base a firm's sites may lie (its radius, RADIUS_TOLERANCE as the
    checker's)."""
    return firm.travel_radius_km + RADIUS_TOLERANCE


def beyond_radius_words(km: float, firm) -> str:
    """How far out of the firm's reach a site lies, in words."""
    return f"the site is {km:,.0f} km away, the radius {firm.travel_radius_km:,.0f} km"


def within_radius(km: float, firm) -> bool:
    """The site lies within the firm's travel radius."""
    return km <= reach_km(firm)


def excluded(firm_index: int, site_id: str, whole_client: set[int],
             by_site: set[tuple[int, str]]) -> bool:
    """An exclusion names the firm with this site, or with no site (the whole client)."""
    return firm_index in whole_client or (firm_index, site_id) in by_site


def banned(item_index: int, firm_index: int, bans: dict[int, set[int]]) -> bool:
    """A ban names the firm with this work item (bans: item -> the firms banned from it)."""
    return firm_index in bans.get(item_index, ())
