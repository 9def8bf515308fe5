"""HTML pages of the projects domain."""

from flask import Blueprint

web = Blueprint("web", __name__)
