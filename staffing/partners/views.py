"""HTML pages of the partners domain: sign in and out."""

from flask import Blueprint

web = Blueprint("accounts", __name__)
