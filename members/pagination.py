"""The API's pagination (its own module: DRF loads it from settings while views import)."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 100)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
