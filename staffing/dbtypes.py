"""Column types shared by the domain models."""

import datetime as dt

import sqlalchemy as sa


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class DateList(sa.TypeDecorator):
    """A sorted, de-duplicated list of dates kept as a JSON array of ISO strings."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return []
        return sorted({d.isoformat() for d in value})

    def process_result_value(self, value, dialect):
        return [dt.date.fromisoformat(v) for v in value or []]


class IntList(sa.TypeDecorator):
    """A sorted, de-duplicated list of small integers (ISO weekdays) as a JSON array."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return sorted(set(value or []))

    def process_result_value(self, value, dialect):
        return list(value or [])
