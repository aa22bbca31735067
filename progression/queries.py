"""Reads and writes on hot paths, with their SQL compiled once per process.

Building a queryset's SQL (its joins, columns and converters) can cost a
request more CPU than running the query: every SAML sign-in reads its
connection with the organisation and subscription, every SCIM request its
directory with the same two. A `RowQuery` states such a read once, as the
models it joins and a WHERE clause with placeholders; its SQL and the
fields' converters are worked out on first use, and each call only sends the
query and builds the instances with `Model.from_db`, as the ORM itself does.
`RowInsert` and `ColumnUpdate` do the same for a plain insert and for a
one-column update.
"""

from dataclasses import dataclass
from functools import cached_property

from django.db import connection as database
from django.db.models import Model

from progression.prepared import prepared_cursor


@dataclass(frozen=True)
class Joined:
    """One model of a `RowQuery`: its alias, and how it joins the first one.

    `join` is a JOIN clause with `{table}` for the model's table; the first
    model of a query has none.
    """

    model: type[Model]
    alias: str
    join: str = ""


class RowQuery:
    """Select at most one row across models joined one-to-one.

    `extra` names further SQL expressions to select, whose values follow the
    instances.
    """

    def __init__(
        self,
        parts: tuple[Joined, ...],
        where: str,
        *,
        prepared=False,
        extra: tuple[str, ...] = (),
    ):
        self.parts = parts
        self.where = where
        self.extra = extra
        # Prepared once per connection too (see `progression.prepared`).
        self.prepared = prepared

    @cached_property
    def compiled(self) -> tuple[str, list]:
        """The SQL, and per model its fields (with their converters) and
        where its primary key is among them."""
        quote = database.ops.quote_name
        columns, joins, models = [], [], []
        for part in self.parts:
            fields = []
            for field in part.model._meta.concrete_fields:
                column = field.get_col(part.alias)
                converters = database.ops.get_db_converters(
                    column
                ) + column.get_db_converters(database)
                fields.append((field.attname, column, converters))
                columns.append(f"{part.alias}.{quote(field.column)}")
            if part.join:
                joins.append(part.join.format(table=quote(part.model._meta.db_table)))
            pk_index = [name for name, _, _ in fields].index(
                part.model._meta.pk.attname
            )
            models.append((part.model, fields, pk_index))
        columns += self.extra
        first = self.parts[0]
        sql = (
            f"SELECT {', '.join(columns)} "  # noqa: S608 - names from models only
            f"FROM {quote(first.model._meta.db_table)} {first.alias} "
            f"{' '.join(joins)} WHERE {self.where} LIMIT 1"
        )
        return sql, models

    def one(self, params: list) -> tuple | None:
        """The instances of the matching row (None for an outer join's gap)
        and the values of `extra`, or None when no row matches."""
        sql, models = self.compiled
        with prepared_cursor() if self.prepared else database.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        instances, start = [], 0
        for model, fields, pk_index in models:
            values = list(row[start : start + len(fields)])
            start += len(fields)
            if values[pk_index] is None:
                # The primary key is never null: an outer join found nothing.
                instances.append(None)
                continue
            for index, (_name, column, converters) in enumerate(fields):
                for converter in converters:
                    values[index] = converter(values[index], column, database)
            names = [name for name, _, _ in fields]
            instances.append(model.from_db(database.alias, names, values))
        return (*instances, *row[start:])


class RowInsert:
    """Insert one row of a model, with the INSERT built once per process.

    What `Model.save()` writes for a new row, field by field (`pre_save`
    fills `auto_now_add`, `get_db_prep_save` adapts), without compiling the
    statement again or sending `pre_save`/`post_save`, which nothing listens
    to for the models inserted this way.
    """

    def __init__(self, model: type[Model]):
        self.model = model

    @cached_property
    def compiled(self) -> tuple[str, list, bool]:
        """The SQL, the fields it writes, and whether it returns the new id."""
        quote = database.ops.quote_name
        meta = self.model._meta
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        returning = database.features.can_return_columns_from_insert
        sql = (
            f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 - names from models only
            f"({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if returning:
            sql += f" RETURNING {quote(meta.pk.column)}"
        return sql, fields, returning

    def save(self, instance: Model) -> Model:
        """Write `instance` as a new row and give it its primary key."""
        sql, fields, returning = self.compiled
        values = [
            field.get_db_prep_save(field.pre_save(instance, True), database)
            for field in fields
        ]
        meta = self.model._meta
        with database.cursor() as cursor:
            cursor.execute(sql, values)
            if returning:
                pk = cursor.fetchone()[0]
            else:
                pk = database.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = database.alias
        return instance


class ColumnUpdate:
    """Set one column of one row by primary key, with SQL built once."""

    def __init__(self, model: type[Model], field_name: str):
        self.model = model
        self.field_name = field_name

    @cached_property
    def compiled(self) -> tuple[str, object]:
        quote = database.ops.quote_name
        meta = self.model._meta
        field = meta.get_field(self.field_name)
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {quote(field.column)} = %s "  # noqa: S608
            f"WHERE {quote(meta.pk.column)} = %s"
        )
        return sql, field

    def set(self, instance: Model, value) -> None:
        """Store `value` on `instance` and in its row."""
        sql, field = self.compiled
        setattr(instance, field.attname, value)
        prepared = field.get_db_prep_save(value, database)
        with database.cursor() as cursor:
            cursor.execute(sql, [prepared, instance.pk])
