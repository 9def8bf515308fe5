"""Paging of SQLAlchemy selects for flask-smorest's @blp.paginate(SelectPage)."""

import sqlalchemy as sa
from flask_smorest import Page

from .extensions import db


class SelectPage(Page):
    """Count and slice a Select in the database instead of in memory."""

    @property
    def item_count(self) -> int:
        counted = sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery())
        return db.session.scalar(counted)

    @property
    def items(self) -> list:
        page = self.collection.offset(self.page_params.first_item).limit(
            self.page_params.page_size
        )
        return list(db.session.scalars(page))
