"""Paging of SQLAlchemy selects for flask-smorest's @blp.paginate(SelectPage), and the
X-Pagination header as it is sent."""

from collections.abc import Callable
from typing import NamedTuple

import sqlalchemy as sa
from flask_smorest import Page
from flask_smorest.pagination import PaginationMetadataSchema

from .extensions import db

PAGINATION_HEADER = {
    "description": "the page's place in the list, as JSON (absent keys: no such page)",
    "required": True,
    # the value is a JSON object, not OpenAPI's "simple" style of k,v,k,v
    "content": {"application/json": {"schema": PaginationMetadataSchema}},
}


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
        # a page past the last is empty without asking the database, so that no page number
        # (?page=99999999999999999999) makes an OFFSET the database cannot hold
        if self.page_params.first_item >= self.page_params.item_count:
            return []
        page = self._query.offset(self.page_params.first_item).limit(self.page_params.page_size)
        rows = list(db.session.scalars(page))
        return self.collection.view(rows) if isinstance(self.collection, Viewed) else rows
