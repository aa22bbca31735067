"""Rows of several models inserted by one SQL statement.

A request that creates a few related rows (a person, their audit event, the
directory record that links them) spends more on round trips to PostgreSQL
than on the inserts. Chained as data-modifying CTEs they are one statement:
atomic without a transaction block, one round trip, one commit. A row that
refers to an earlier one takes that row's new id, and is written only when the
earlier row was.

A chain may begin with a check, a query that must find a row for anything to
be written: a write decided on facts read earlier (and perhaps kept a while)
confirms in its own statement that those facts still hold. It may also carry
probes, queries that decide nothing and only report whether they found a row,
so that what the caller does after the write can depend on data the write
would otherwise have had to read in a round trip of its own.
"""

import contextlib
import dataclasses
import datetime
import functools
import uuid

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models import Model
from django.utils import timezone

from progression import jsontext
from progression.prepared import prepared_cursor


@dataclasses.dataclass(frozen=True)
class ChainedRow:
    """One unsaved row of a chain and how it hangs on the rows before it."""

    name: str
    row: Model
    # Fields whose value is the new id of an earlier row, named here.
    refs: dict[str, str] = dataclasses.field(default_factory=dict)
    # Earlier rows this one is written only with, without taking their ids.
    after: tuple[str, ...] = ()
    # A row that breaks a unique constraint is left out, with every row that
    # depends on it, instead of failing the statement.
    ignore_conflicts: bool = False

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.refs.values(), *self.after]))


@dataclasses.dataclass(frozen=True)
class ChainCheck:
    """A query the chain starts with; nothing is written unless it finds a row.

    `sql` is a SELECT of one column named `id`, with `%s` placeholders for
    `params`. PostgreSQL only.
    """

    sql: str
    params: tuple = ()
    name: str = "check"


@dataclasses.dataclass(frozen=True)
class ChainProbe:
    """A query asked in the chain's statement, whose answer is whether it
    found a row. It sees the database as the statement found it, without the
    chain's own rows, and writes or prevents nothing.

    `sql` is a SELECT with `%s` placeholders for `params`.
    """

    name: str
    sql: str
    params: tuple = ()


class ChainCheckFailed(Exception):
    """The chain's check found no row, so nothing was written."""


def rows_insert_chained(
    rows: list[ChainedRow],
    *,
    check: ChainCheck | None = None,
    probes: tuple[ChainProbe, ...] = (),
) -> set[str]:
    """Insert `rows` in one statement and set their primary keys.

    Returns the names of the rows written and of the `probes` that found a
    row. A constraint broken by a row not marked `ignore_conflicts` raises
    `IntegrityError` and writes nothing; a `check` that finds no row raises
    `ChainCheckFailed`, with nothing written.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with _savepoint_if_nested(db):
        if db.vendor == "postgresql":
            ids = _insert_postgresql(rows, check, probes)
        elif check is not None:
            raise NotImplementedError("A chain check needs PostgreSQL.")
        else:
            found = _probe_each(probes)
            ids = {**_insert_each(rows), **found}
    if check is not None and ids.pop(check.name) is None:
        raise ChainCheckFailed
    written = {probe.name for probe in probes if ids.pop(probe.name)}
    for chained in rows:
        pk = ids.get(chained.name)
        if pk is not None:
            _mark_saved(chained, pk, ids, db.alias)
            written.add(chained.name)
    return written


def _savepoint_if_nested(db):
    # Outside a transaction the single statement is atomic by itself; inside
    # one, a savepoint keeps a failed statement from aborting the caller's.
    if db.in_atomic_block:
        return transaction.atomic()
    return contextlib.nullcontext()


# Fields whose database value is their Python value as JSON: these travel in
# one JSON document per row, which PostgreSQL reads into the table's row type,
# instead of one parameter each. Any other field (one that encrypts, say) is
# prepared by Django as usual.
_AS_JSON = (
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateTimeField,
    models.EmailField,
    models.ForeignKey,
    models.IntegerField,
    models.JSONField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SlugField,
    models.SmallIntegerField,
    models.TextField,
    models.URLField,
    models.UUIDField,
)


def _as_json(field) -> bool:
    if type(field) not in _AS_JSON:
        return False
    return not isinstance(field, models.JSONField) or field.encoder is None


def _stamped(field) -> bool:
    """Whether an insert sets `field` to the current instant (`auto_now`)."""
    return type(field) is models.DateTimeField and (
        field.auto_now or field.auto_now_add
    )


@dataclasses.dataclass(frozen=True)
class _RowPlan:
    """How one row of a chain is written: its CTE and where its values go."""

    sql: str
    # (column, attname) of the fields carried by the row's JSON document.
    in_json: tuple[tuple[str, str], ...]
    # Fields prepared by Django, as parameters of their own.
    separate: tuple[models.Field, ...]
    # Attnames of the fields an insert stamps with the statement's instant.
    stamped: tuple[str, ...]
    # The other fields whose `pre_save` computes their value on an insert.
    computed: tuple[models.Field, ...]


@functools.cache
def _plan(model, name: str, refs: tuple, after: tuple, ignore: bool) -> _RowPlan:
    """One CTE of the chain and how its row's values reach it.

    Built once per shape. The casts let PostgreSQL type the parameters of an
    `INSERT ... SELECT` as it would those of `VALUES`.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    targets = {meta.get_field(field).attname: target for field, target in refs}
    columns, values, in_json, separate = [], [], [], []
    stamped, computed = [], []
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        cast = field.cast_db_type(connection)
        if field.attname in targets:
            values.append(f"{quote(targets[field.attname])}.id::{cast}")
            continue
        if _stamped(field):
            stamped.append(field.attname)
        elif type(field).pre_save is not models.Field.pre_save:
            computed.append(field)
        if _as_json(field):
            values.append(f"r.{quote(field.column)}")
            in_json.append((field.column, field.attname))
        else:
            values.append(f"%s::{cast}")
            separate.append(field)
    sources = [f"jsonb_populate_record(NULL::{quote(meta.db_table)}, %s::jsonb) r"]
    sources += [
        quote(source)
        for source in dict.fromkeys([target for _, target in refs] + list(after))
    ]
    conflict = " ON CONFLICT DO NOTHING" if ignore else ""
    sql = (
        f"{quote(name)} AS (INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM {', '.join(sources)}{conflict} "
        f"RETURNING {quote(meta.pk.column)} AS id)"
    )
    return _RowPlan(
        sql, tuple(in_json), tuple(separate), tuple(stamped), tuple(computed)
    )


def _row_shape(chained: ChainedRow, check: ChainCheck | None) -> tuple:
    after = chained.after
    if check is not None and not chained.depends_on:
        # A row hanging on no other hangs on the check; the others follow
        # it through the rows they hang on.
        after = (check.name,)
    return (
        type(chained.row),
        chained.name,
        tuple(sorted(chained.refs.items())),
        after,
        chained.ignore_conflicts,
    )


@functools.cache
def _statement(check: tuple | None, probes: tuple, shapes: tuple):
    """The chain's whole statement and the names of the columns it returns,
    built once per shape of chain."""
    quote = connection.ops.quote_name
    parts, results = [], []
    if check is not None:
        name, sql = check
        parts.append(f"{quote(name)} AS ({sql})")
        results.append((name, f"(SELECT id FROM {quote(name)})"))  # noqa: S608
    for name, sql in probes:
        parts.append(f"{quote(name)} AS ({sql})")
        results.append((name, f"EXISTS (SELECT FROM {quote(name)})"))
    plans = tuple(_plan(*shape) for shape in shapes)
    for shape, plan in zip(shapes, plans, strict=True):
        parts.append(plan.sql)
        name = shape[1]
        results.append((name, f"(SELECT id FROM {quote(name)})"))  # noqa: S608
    columns = ", ".join(column for _, column in results)
    sql = f"WITH {', '.join(parts)} SELECT {columns}"  # noqa: S608
    return sql, tuple(name for name, _ in results), plans


def _json_value(value):
    if isinstance(value, datetime.datetime | uuid.UUID):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _row_params(row: Model, plan: _RowPlan, now: datetime.datetime) -> list:
    """The row's parameters in the order its CTE names them: the separate
    fields in the select list, then the JSON document in the FROM clause."""
    # What `pre_save` does on an insert: every stamped field takes the one
    # instant of the statement, and the other computed fields compute.
    for attname in plan.stamped:
        setattr(row, attname, now)
    for field in plan.computed:
        setattr(row, field.attname, field.pre_save(row, True))
    params = [
        field.get_db_prep_save(getattr(row, field.attname), connection)
        for field in plan.separate
    ]
    document = {column: getattr(row, attname) for column, attname in plan.in_json}
    params.append(jsontext.dumps(document, default=_json_value).decode())
    return params


def _insert_postgresql(
    rows: list[ChainedRow], check: ChainCheck | None, probes: tuple[ChainProbe, ...]
) -> dict[str, int | bool | None]:
    sql, names, plans = _statement(
        (check.name, check.sql) if check is not None else None,
        tuple((probe.name, probe.sql) for probe in probes),
        tuple(_row_shape(chained, check) for chained in rows),
    )
    params = [*check.params] if check is not None else []
    for probe in probes:
        params += probe.params
    now = timezone.now()
    for chained, plan in zip(rows, plans, strict=True):
        params += _row_params(chained.row, plan, now)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return dict(zip(names, found, strict=True))


def _probe_each(probes: tuple[ChainProbe, ...]) -> dict[str, bool]:
    """Each probe as a query of its own, asked before the rows are written."""
    found = {}
    with connection.cursor() as cursor:
        for probe in probes:
            cursor.execute(probe.sql, probe.params)
            found[probe.name] = cursor.fetchone() is not None
    return found


def _insert_each(rows: list[ChainedRow]) -> dict[str, int | None]:
    """The same chain row by row, for databases without data-modifying CTEs."""
    ids: dict[str, int | None] = {}
    with transaction.atomic():
        for chained in rows:
            if any(ids.get(name) is None for name in chained.depends_on):
                ids[chained.name] = None
                continue
            _set_refs(chained, ids)
            try:
                with transaction.atomic():
                    chained.row.save(force_insert=True)
            except IntegrityError:
                if not chained.ignore_conflicts:
                    raise
                ids[chained.name] = None
                continue
            ids[chained.name] = chained.row.pk
    return ids


def _set_refs(chained: ChainedRow, ids: dict[str, int | None]) -> None:
    for name, target in chained.refs.items():
        field = chained.row._meta.get_field(name)
        setattr(chained.row, field.attname, field.to_python(ids[target]))


def _mark_saved(
    chained: ChainedRow, pk: int, ids: dict[str, int | None], alias: str
) -> None:
    row = chained.row
    setattr(row, row._meta.pk.attname, pk)
    if chained.refs:
        _set_refs(chained, ids)
    row._state.adding = False
    row._state.db = alias
