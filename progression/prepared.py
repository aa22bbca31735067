"""Statements that PostgreSQL parses and plans once per connection.

Django sends each statement with its parameters written into the text
(client-side binding), so PostgreSQL parses and plans it every time. For the
few statements that run on every request of a hot path and whose text never
changes (the SCIM directory lookup, the chained insert of a create), that is
a good part of their cost. Through `prepared_cursor` they travel as prepared
statements instead: psycopg prepares each one on a connection's first use and
afterwards sends only its name and parameters.

psycopg prepares nothing while the connection's `prepare_threshold` is None,
Django's default; the settings give it a threshold no statement reaches, so
only these are prepared. A pooler that hands each transaction a different
server connection loses prepared statements (PgBouncer in transaction mode
before 1.21, for one): `DATABASE_PREPARED_STATEMENTS=0` turns them off, and
these statements are then planned every time like any other.
"""

from django.db import connection
from django.db.backends.postgresql.psycopg_any import is_psycopg3

if is_psycopg3:
    from django.db.backends.postgresql.base import (
        TIMESTAMPTZ_OID,
        Format,
        ServerBindingCursor,
        register_tzloader,
    )

    class PreparingCursor(ServerBindingCursor):
        """Binds parameters on the server and prepares every statement it runs."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

        def _send_query_prepared(self, name, pgq, *, binary=None):
            # psycopg keeps the query it ran only when it was not prepared;
            # Django's query log (tests, debug) reads it from there.
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)


def prepared_cursor():
    """A cursor whose statements are prepared, or a plain one where they cannot be."""
    cursor = connection.cursor()
    if not is_psycopg3 or connection.vendor != "postgresql":
        return cursor
    # The plain cursor has checked the connection and chosen the wrapper
    # (logging queries or not); the same wrapper takes the preparing cursor.
    cursor.close()
    raw = PreparingCursor(connection.connection)
    # As Django's own cursors do, when the time zone is not the connection's.
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, raw)
    return type(cursor)(raw, connection)
