"""Rule 6: sites (firms per site, the face firm)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ortools.sat.python import cp_model


def firms_per_site(policy) -> int:
    """The most firms that may work at one site: one under the sole-firm face policy, else
    the policy's max_firms_per_site."""
    return 1 if policy.face_policy == "sole" else policy.max_firms_per_site


def site_full(firms_there: Iterable[int], limit: int) -> bool:
    """No new firm may come to a site whose work is done by `firms_there`."""
    return len(set(firms_there)) >= limit


def within_limit(firms_there: Iterable[int], limit: int) -> bool:
    """Rule 6: the firms doing a site's work are at most its limit."""
    return len(set(firms_there)) <= limit


def limit_binds(candidate_firms: int, limit: int) -> bool:
    """The site's firm limit can bind: more firms could work there than it allows."""
    return candidate_firms > limit


def site_admits(firms_there: Iterable[int], firm: int, limit: int) -> bool:
    """A site whose work is done by `firms_there` may take work of `firm`."""
    firms_there = set(firms_there)
    return firm in firms_there or not site_full(firms_there, limit)


def encode_works_at(cp: cp_model.CpModel, works, options: Sequence) -> None:
    """`works` (the firm works at the site) is true exactly when one of its options there is."""
    for var in options:
        cp.add_implication(var, works)
    cp.add_bool_or(list(options)).only_enforce_if(works)


def encode_site_firms(cp: cp_model.CpModel, works: Sequence, limit: int) -> None:
    """At most `limit` of the site's firms work there (`limit` less the firms the fixed rest
    of a plan has there, for a part of a plan)."""
    if len(works) > limit:
        cp.add(cp_model.LinearExpr.sum(list(works)) <= limit)


def lead_face(policy) -> bool:
    """Whether sites need a face firm with half of their hours (the lead policy)."""
    return policy.face_policy == "lead"


def face_firm(units_by_firm: dict[int, int]) -> int:
    """The firm facing the client at a site: the one with the most hours there (the lowest
    index among equals); under the lead policy it must have half of them (face_holds)."""
    return max(units_by_firm.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def face_holds(face_units: int, site_units: int) -> bool:
    """Lead policy: the face firm does at least half of the site's hours."""
    return 2 * face_units >= site_units


def encode_face(cp: cp_model.CpModel, site_units, firms: Sequence[tuple[object, object,
                                                                            object]]) -> None:
    """Lead policy, one site: `firms` as (faces, works, its units there); one face firm,
    among those that work there, whenever any does, with half of the site's units."""
    faces = []
    for face, works, units in firms:
        cp.add_implication(face, works)
        cp.add(face_holds(units, site_units)).only_enforce_if(face)
        faces.append(face)
    cp.add_at_most_one(faces)
    for _, works, _ in firms:
        cp.add_bool_or(faces).only_enforce_if(works)
