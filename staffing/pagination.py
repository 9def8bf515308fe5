"""Paging of SQLAlchemy selects for flask-smorest's @blp.paginate(SelectPage)."""

from collections.abc import Callable
from typing import NamedTuple

import sqlalchemy as sa
from flask_smorest import Page

from .extensions import db


class Viewed(NamedTuple):
    """A select whose page of rows is turned into what the reader sees, in one call per page
    (for figures that are computed once for the whole page)."""

    query: sa.Select
    view: Callable[[list], list]


class SelectPage(Page):
    """Count and slice a Select (or a Viewed one) in the database instead of in memory."""

    @property
    def _query(self) -> sa.Select:
        return self.collection.query if isinstance(self.collection, Viewed) else self.collection

    @property
    def item_count(self) -> int:
        counted = sa.select(sa.func.count()).select_from(self._query.order_by(None).subquery())
        return db.session.scalar(counted)

    @property
    def items(self) -> list:
        page = self._query.offset(self.page_params.first_item).limit(self.page_params.page_size)
        rows = list(db.session.scalars(page))
        return self.collection.view(rows) if isinstance(self.collection, Viewed) else rows
