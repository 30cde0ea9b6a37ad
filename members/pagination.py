"""Pagination for the directory's pages and the API.

Counting every match of a broad search in a community of 100,000 costs more than finding the
page itself, and nobody pages through thousands of people: counts stop at ``COUNT_LIMIT``
and the page says "1,000+". (Its own module: DRF loads the API class from settings while the
views are being imported.)
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

COUNT_LIMIT = 1000


class CappedPaginator(Paginator):
    """A Paginator whose count stops at ``limit`` (+1 to know there are more)."""

    limit = COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        if hasattr(object_list, "query"):
            # Order and related rows do not change how many there are; without them the
            # database may stop after limit + 1 matches.
            rows = object_list.order_by().values("pk")[: self.limit + 1]
            return int(rows.count())
        return min(len(object_list), self.limit + 1)

    @property
    def capped(self) -> bool:
        return self.count > self.limit

    @property
    def shown_count(self) -> int:
        return min(self.count, self.limit)


class UncappedPaginator(CappedPaginator):
    """For lists that are cheap to count whole and must be reachable to the end (an
    answer's comments, a question's answers)."""

    limit = 2**62


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 100). ``count`` stops at 1,000; then
    ``count_capped`` is true."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data: Any) -> Response:
        paginator: CappedPaginator = self.page.paginator  # type: ignore[union-attr, assignment]
        return Response(
            {
                "count": paginator.shown_count,
                "count_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_capped"] = {"type": "boolean", "example": False}
        return response


class FullPagination(Pagination):
    """``Pagination`` whose count is never capped."""

    django_paginator_class = UncappedPaginator
