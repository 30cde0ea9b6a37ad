"""The directory as CSV, privacy applied (columns and values from ``members.privacy``)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from members import privacy, selectors
from members.models import Membership


class Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def cell(value: str) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ (or a tab or CR) would
    run as one in Excel or WPS; a leading apostrophe keeps it text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def directory_rows(*, viewer: Membership) -> Iterator[str]:
    community = viewer.community
    columns = privacy.export_columns(viewer=viewer, community=community)
    profiles = selectors.directory(
        viewer=viewer, community=community, filters=selectors.DirectoryFilters()
    )
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(columns)  # a BOM, so spreadsheet programs read UTF-8
    for profile in profiles.iterator(chunk_size=500):
        row = privacy.export_row(viewer=viewer, profile=profile, columns=columns)
        yield writer.writerow([cell(value) for value in row])


def directory_csv_response(*, viewer: Membership) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        directory_rows(viewer=viewer), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{viewer.community.slug}-members.csv"'
    return response
