"""The `staffing` command: Flask's run and db, plus demo, token and user management."""

import click
from flask.cli import FlaskGroup

from . import create_app


@click.group(cls=FlaskGroup, create_app=create_app)
def main():
    """staffing: staff one multi-site IT rollout with competing partner firms."""
