"""The planning pages' blueprint and the filters their templates share."""

from __future__ import annotations

from flask import Blueprint

web = Blueprint("planning", __name__)


@web.app_template_filter("euros")
def euros(value) -> str:
    """12,345.67 EUR, or a dash when there is no figure."""
    return "-" if value is None else f"{value:,.2f} EUR"


@web.app_template_filter("points")
def points(value) -> str:
    """A weighted figure (the objective, its bound): 12,345.67, not euros."""
    return "-" if value is None else f"{value:,.2f}"


@web.app_template_filter("or_dash")
def or_dash(value) -> str:
    return "-" if value is None else str(value)


@web.app_template_filter("hours")
def hours(value) -> str:
    """12.5 h, or a dash."""
    return "-" if value is None else f"{value:,.1f} h"


@web.app_template_filter("delta")
def delta(value) -> str:
    """+1,234.50 or -12.00 (a change), or a dash."""
    return "-" if value is None else f"{value:+,.2f}"
