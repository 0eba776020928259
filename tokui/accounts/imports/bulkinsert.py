"""Many new rows of one model written with a few plain INSERT statements.

``bulk_create`` compiles every value of every row through the SQL compiler (pre_save,
expression checks, placeholder look-ups): for the import's 22-column contacts and their audit
events that was most of the fast path's time. The fast path knows its values are plain
(strings, numbers, booleans, datetimes, JSON; never expressions), so ``RowInserter`` compiles
the statement once per model and only converts each value with its field's
``get_db_prep_save``, as ``bulk_create`` does in the end. Plain ``%s`` placeholders through
Django's cursor work on SQLite and PostgreSQL alike; new primary keys come back with
``RETURNING`` (both backends, and what ``bulk_create`` itself relies on), and the search-index
triggers of SQLite fire as for any INSERT. See docs/adr/0003-bulk-import.md.
"""

import datetime
import decimal
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from django.db import connections
from django.db.models import AutoField, CharField, Field, ForeignKey, Model, TextField

_UNSET = object()
# Values whose conversion depends on nothing but the value: safe to convert once when repeated.
_IMMUTABLE = (datetime.datetime, datetime.date, decimal.Decimal, int, type(None))


def _passes_text_through(field: Field[Any, Any]) -> bool:
    """Whether ``get_db_prep_save`` returns a str value unchanged (stock CharField/TextField).

    Skipping the call for these saves about a microsecond per value; any field that overrides
    a step of the conversion is converted as usual.
    """
    cls = type(field)
    return (
        isinstance(field, CharField | TextField)
        and cls.get_db_prep_save is Field.get_db_prep_save
        and cls.get_db_prep_value is Field.get_db_prep_value
        and cls.get_prep_value in (CharField.get_prep_value, TextField.get_prep_value)
        and cls.to_python in (CharField.to_python, TextField.to_python)
    )


def _getter(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """``row -> (row[name] for name in names)`` as a tuple, in C (``itemgetter``)."""
    if len(names) > 1:
        return itemgetter(*names)
    return lambda row: tuple(row[name] for name in names)


class RowInserter:
    """INSERT rows of ``model`` given as ``{attname: value}``; absent fields take defaults.

    Only for models whose columns need nothing at insert time but a value: one table, an auto
    primary key, no ``auto_now``, no database defaults, no custom placeholders. Anything else is
    refused when the inserter is built, so a model change cannot make it write other values
    than ``bulk_create`` would.
    """

    def __init__(self, model: type[Model], *, using: str = "default") -> None:
        meta = model._meta
        if not isinstance(meta.pk, AutoField):  # BigAutoField and SmallAutoField too
            raise TypeError(f"{meta.label} has no auto primary key")
        if meta.parents:
            raise TypeError(f"{meta.label} spans several tables (multi-table inheritance)")
        self.model, self.using = model, using
        self.fields = [f for f in meta.concrete_fields if f is not meta.pk]
        for field in self.fields:
            if (
                getattr(field, "auto_now", False)
                or getattr(field, "auto_now_add", False)
                or field.has_db_default()
                or hasattr(field, "get_placeholder_sql")
                or hasattr(field, "get_placeholder")
            ):
                raise TypeError(f"{meta.label}.{field.name} needs more than a value at insert")
        self.names = [f.attname for f in self.fields]
        self.columns = [f.column for f in self.fields if f.column]
        if len(self.columns) != len(self.fields):
            raise TypeError(f"{meta.label} has a concrete field without a column")
        self.text = [_passes_text_through(f) for f in self.fields]
        self._stamped = [f for f in self.fields if f.has_default() and callable(f.default)]
        self._pk = meta.pk

    def defaults(self) -> dict[str, Any]:
        """Default values for the rows of one batch, as ``Model.__init__`` takes them.

        A callable default (``timezone.now`` for ``created_at``, ``updated_at``, an event's
        ``at``) is called once here, not once per row: a batch is one transaction written at
        one moment, and its rows then share one converted timestamp (see ``_params``). The
        rows share these objects too: callers replace a mutable default (a JSON ``dict``),
        never change it in place.
        """
        return {field.attname: field.get_default() for field in self.fields}

    def stamps(self) -> dict[str, Any]:
        """The callable defaults alone (``created_at``, ``updated_at``), taken now.

        Rows built ahead of their batch's write (``defaults`` taken then) are given these just
        before they are written, so the batch still shares the moment it is written.
        """
        return {field.attname: field.get_default() for field in self._stamped}

    def _params(self, rows: Iterable[dict[str, Any]]) -> list[list[Any]]:
        """Each row's values in column order, converted as ``bulk_create`` converts them."""
        connection = connections[self.using]
        take = _getter(self.names)
        text = [i for i, is_text in enumerate(self.text) if is_text]
        take_text = _getter([self.names[i] for i in text])
        other = [(i, field) for i, field in enumerate(self.fields) if not self.text[i]]
        # A column's value that is the very same immutable object as in the row before (the
        # batch's timestamp, a repeated account id, None) is converted once.
        last: dict[int, tuple[Any, Any]] = {i: (_UNSET, None) for i, _field in other}
        prepared = []
        for row in rows:
            values = list(take(row))
            if {*map(type, take_text(row))} - {str}:  # rare: a text field given a non-str
                for i in text:
                    if values[i].__class__ is not str:
                        values[i] = self.fields[i].get_db_prep_save(values[i], connection)
            for i, field in other:
                value = values[i]
                if value is last[i][0]:
                    values[i] = last[i][1]
                elif isinstance(value, _IMMUTABLE):
                    last[i] = (value, field.get_db_prep_save(value, connection))
                    values[i] = last[i][1]
                else:
                    values[i] = field.get_db_prep_save(value, connection)
            prepared.append(values)
        return prepared

    def _head(self, connection: Any) -> str:
        ops = connection.ops
        return "INSERT INTO {} ({})".format(
            ops.quote_name(self.model._meta.db_table),
            ", ".join(ops.quote_name(column) for column in self.columns),
        )

    def _tail(self, connection: Any, returning: bool) -> str:
        return connection.ops.returning_columns([self._pk])[0] if returning else ""

    def _unnest_types(self, connection: Any) -> list[str] | None:
        """PostgreSQL: the columns' array types for an ``UNNEST`` insert, else None.

        On PostgreSQL a VALUES list of thousands of parameters costs more to plan than to
        write, so ``bulk_create`` sends one array per column there
        (``INSERT … SELECT * FROM UNNEST(%s::text[], …)``); this does the same, under the
        same conditions (every column of a standard type).
        """
        if connection.vendor != "postgresql":
            return None
        types = []
        for field in self.fields:
            if field.is_relation and not isinstance(field, ForeignKey):
                return None
            source = field.target_field if isinstance(field, ForeignKey) else field
            internal = source.get_internal_type()
            db_type = field.db_type(connection)
            if internal not in connection.data_types or not db_type:
                return None
            types.append(db_type.split("(")[0])  # varchar[], not varchar(100)[]
        return types

    def _statements(self, connection: Any, count: int, returning: bool) -> list[tuple[int, str]]:
        """``[(rows, sql)]`` covering ``count`` rows, each within the backend's bind limit."""
        limit = connection.features.max_query_params
        per_statement = max(1, limit // len(self.fields)) if limit else count
        row_sql = "({})".format(", ".join(["%s"] * len(self.fields)))
        head, tail = self._head(connection), self._tail(connection, returning)
        statements = []
        for start in range(0, count, per_statement):
            n = min(per_statement, count - start)
            statements.append((n, f"{head} VALUES {', '.join([row_sql] * n)} {tail}".rstrip()))
        return statements

    def insert(self, rows: list[dict[str, Any]], *, returning: bool = False) -> list[Any]:
        """Insert ``rows`` in order; their new primary keys in the same order if ``returning``."""
        connection = connections[self.using]
        if not rows:
            return []
        if returning and not connection.features.can_return_rows_from_bulk_insert:
            # Not SQLite or PostgreSQL: let Django find the keys its own way.
            objs = [self.model(**row) for row in rows]
            self.model._default_manager.using(self.using).bulk_create(objs)
            return [obj.pk for obj in objs]
        params = self._params(rows)
        unnest = self._unnest_types(connection)
        if unnest is not None:
            arrays = ", ".join(f"(%s)::{db_type}[]" for db_type in unnest)
            sql = f"{self._head(connection)} SELECT * FROM UNNEST({arrays})"
            tail = self._tail(connection, returning)
            statements = [(len(params), f"{sql} {tail}".rstrip())]
        else:
            statements = self._statements(connection, len(params), returning)
        pks: list[Any] = []
        position = 0
        with connection.cursor() as cursor:
            for n, sql in statements:
                chunk = params[position : position + n]
                position += n
                if unnest is not None:
                    cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])
                else:
                    cursor.execute(sql, [value for values in chunk for value in values])
                if returning:
                    found = cursor.fetchall()
                    if len(found) != n:
                        raise RuntimeError("RETURNING gave back fewer keys than rows inserted")
                    pks.extend(pk for (pk,) in found)
        return pks
