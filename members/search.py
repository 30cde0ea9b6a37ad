"""Full-text search that works for Chinese as well as English, on PostgreSQL and SQLite.

A *search document* is a string of tokens separated by single spaces, with a space at each
end: Latin-script words are kept whole (case-folded), runs of CJK characters are indexed as
their single characters and their overlapping pairs (the bigram scheme of Lucene's CJK
analyzer), because Chinese has no spaces between words.

A query is tokenised the same way. A Latin word matches any token it begins (``eng`` finds
``engineer``); a run of CJK characters must contain all of its pairs (``交互设计`` needs
``交互``, ``互设`` and ``设计``), a single character matches itself.

A document also carries *facet* tokens for exact filters (``:t:42`` for tag 42, ``:c:上海`` for
a city), so a search and any number of filters are answered together by one index lookup
instead of a join per filter.

On PostgreSQL the column *is* a ``tsvector`` holding exactly these tokens (written as a
quoted tsvector literal, so no text-search parser and no dependence on the server's locale),
with a GIN index that a migration creates; a query becomes a ``tsquery``. Elsewhere (SQLite)
the column is text and the same terms become ``LIKE`` clauses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Lookup

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SEGMENT = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_NON_WORD = re.compile(r"\W+")

MAX_QUERY_CHARS = 200
FACET_MAX_CHARS = 120
MAX_QUERY_TERMS = 24


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _segments(text: str) -> Iterable[tuple[str, bool]]:
    for match in _SEGMENT.finditer(_normalise(text)):
        segment = match.group()
        yield segment, bool(_CJK_RUN.fullmatch(segment))


def facet(kind: str, value: object) -> str:
    """An exact-match token such as ``:c:new_york``: case-folded, non-word characters as ``_``.
    The leading colon keeps it out of reach of free text (whose terms begin with a letter):
    otherwise the query ``c`` would find everyone with a city."""
    # Cut long values (PostgreSQL refuses lexemes over 2,047 bytes): fields are shorter anyway.
    value = _NON_WORD.sub("_", _normalise(str(value)[:FACET_MAX_CHARS]).strip()).strip("_")
    return f":{kind}:{value}"


def document(*texts: str, facets: Iterable[str] = ()) -> str:
    """The search document for the given texts: unique tokens, space-separated and -framed."""
    tokens: dict[str, None] = dict.fromkeys(f for f in facets if not f.endswith(":"))
    for text in texts:
        for segment, is_cjk in _segments(text or ""):
            if is_cjk:
                for char in segment:
                    tokens[char] = None
                for i in range(len(segment) - 1):
                    tokens[segment[i : i + 2]] = None
            else:
                # PostgreSQL refuses lexemes over 2,047 bytes; a query term is at most
                # MAX_QUERY_CHARS long, so it still finds the word by its beginning.
                tokens[segment[:MAX_QUERY_CHARS]] = None
    if not tokens:
        return ""
    return " " + " ".join(tokens) + " "


def parse_query(text: str) -> tuple[Term, ...]:
    """The terms of a free-text query; empty when it has nothing searchable."""
    terms: dict[Term, None] = {}
    for segment, is_cjk in _segments((text or "")[:MAX_QUERY_CHARS]):
        if is_cjk and len(segment) > 1:
            for i in range(len(segment) - 1):
                terms[Term(segment[i : i + 2], prefix=False)] = None
        else:
            terms[Term(segment, prefix=not is_cjk)] = None
    return tuple(terms)[:MAX_QUERY_TERMS]


@dataclass(frozen=True)
class Query:
    """Free text plus facet tokens that must all be in a document, and facet tokens that must
    not be (``excluded``)."""

    text: str = ""
    facets: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def terms(self) -> tuple[Term, ...]:
        exact = tuple(Term(f, prefix=False) for f in dict.fromkeys(self.facets))
        return exact + parse_query(self.text)

    def __bool__(self) -> bool:
        return bool(self.terms() or self.excluded)


def _tsquery(terms: tuple[Term, ...], excluded: tuple[str, ...]) -> str:
    # Tokens are word characters (and a facet's colons) only, so quoting needs no escaping.
    wanted = [f"'{t.text}'" + (":*" if t.prefix else "") for t in terms]
    return " & ".join(wanted + [f"!'{token}'" for token in excluded])


def _like_pattern(term: Term) -> str:
    escaped = term.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped}{'' if term.prefix else ' '}%"


_TSVECTOR_LEXEME = re.compile(r"'((?:[^']|'')*)'")


def _tsvector_literal(doc: str) -> str:
    lexemes = (t.replace("\\", "\\\\").replace("'", "''") for t in doc.split())
    return " ".join(f"'{lexeme}'" for lexeme in lexemes)


def _from_tsvector_literal(value: str) -> str:
    tokens = [
        m.group(1).replace("''", "'").replace("\\\\", "\\")
        for m in _TSVECTOR_LEXEME.finditer(value)
    ]
    return " " + " ".join(tokens) + " " if tokens else ""


class SearchDocumentField(models.TextField):
    """A search document (see module docstring): ``tsvector`` on PostgreSQL, text elsewhere.
    Python always sees the space-framed token string."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "tsvector"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if value is not None and connection.vendor == "postgresql":
            return _tsvector_literal(value)
        return value

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or connection.vendor != "postgresql":
            return value
        return _from_tsvector_literal(value)


@SearchDocumentField.register_lookup
class Matches(Lookup):
    """``field__matches=<free text or Query>``: every term of the query is in the document."""

    lookup_name = "matches"
    prepare_rhs = False

    def _query(self) -> Query:
        return self.rhs if isinstance(self.rhs, Query) else Query(text=str(self.rhs))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        query = self._query()
        terms = query.terms()
        if not terms and not query.excluded:
            return "1 = 0", ()
        clauses: list[str] = []
        params: list[Any] = []
        for term, negate in [(t, False) for t in terms] + [
            (Term(token, prefix=False), True) for token in query.excluded
        ]:
            clauses.append(f"{lhs} {'NOT ' if negate else ''}LIKE %s ESCAPE '\\'")
            params.extend(lhs_params)
            params.append(_like_pattern(term))
        return "(" + " AND ".join(clauses) + ")", tuple(params)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        query = self._query()
        terms = query.terms()
        if not terms and not query.excluded:
            return "1 = 0", ()
        return f"{lhs} @@ %s::tsquery", (*lhs_params, _tsquery(terms, query.excluded))


def gin_index(table: str, column: str, name: str) -> Any:
    """A migration operation creating a GIN index on a search document column on PostgreSQL
    (and nothing elsewhere, where search uses LIKE)."""
    from django.db import migrations

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column})"
            )

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
