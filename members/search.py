"""Full-text search that works for Chinese as well as English, on PostgreSQL and SQLite.

A *search document* is a string of tokens separated by single spaces, with a space at each
end: Latin-script words are kept whole (case-folded), runs of CJK characters are indexed as
their single characters and their overlapping pairs (the bigram scheme of Lucene's CJK
analyzer), because Chinese has no spaces between words.

A query is tokenised the same way. A Latin word matches any token it begins (``eng`` finds
``engineer``); a run of CJK characters must contain all of its pairs (``交互设计`` needs
``交互``, ``互设`` and ``设计``), a single character matches itself.

On PostgreSQL the document is indexed as a ``tsvector`` built directly from the tokens (no
text-search parser, so no dependence on the server's locale) by a GIN index that a migration
creates; the query becomes a ``tsquery``. Elsewhere the same terms become ``LIKE`` clauses.
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

MAX_QUERY_CHARS = 200
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


def document(*texts: str) -> str:
    """The search document for the given texts: unique tokens, space-separated and -framed."""
    tokens: dict[str, None] = {}
    for text in texts:
        for segment, is_cjk in _segments(text or ""):
            if is_cjk:
                for char in segment:
                    tokens[char] = None
                for i in range(len(segment) - 1):
                    tokens[segment[i : i + 2]] = None
            else:
                tokens[segment] = None
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


def _tsquery(terms: tuple[Term, ...]) -> str:
    # Tokens are word characters only, so quoting them needs no escaping.
    return " & ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in terms)


class SearchDocumentField(models.TextField):
    """A text column holding a search document (see module docstring)."""


@SearchDocumentField.register_lookup
class Matches(Lookup):
    """``field__matches=<free text>``: every term of the query is in the document."""

    lookup_name = "matches"
    prepare_rhs = False

    def _terms(self) -> tuple[Term, ...]:
        return parse_query(str(self.rhs))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        terms = self._terms()
        if not terms:
            return "1 = 0", ()
        clauses: list[str] = []
        params: list[Any] = []
        for term in terms:
            clauses.append(f"{lhs} LIKE %s")
            params.extend(lhs_params)
            params.append(f"% {term.text}{'' if term.prefix else ' '}%")
        return "(" + " AND ".join(clauses) + ")", tuple(params)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        terms = self._terms()
        if not terms:
            return "1 = 0", ()
        return f"members_search_tsvector({lhs}) @@ %s::tsquery", (*lhs_params, _tsquery(terms))


POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION members_search_tsvector(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT array_to_tsvector(array_remove(string_to_array(doc, ' '), '')) $$;
"""
