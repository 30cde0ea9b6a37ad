"""The ledger as CSV: every entry, so the totals per account reconcile to the balances."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from members.exports import Echo, cell
from members.models import Community
from rewards.models import Entry
from rewards.selectors import account_key

COLUMNS = ["transaction", "occurred_at", "kind", "description", "account", "amount", "currency"]


def ledger_rows(*, community: Community) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(COLUMNS)
    entries = (
        Entry.objects.filter(transaction__community=community)
        .select_related("transaction", "account")
        .order_by("transaction__occurred_at", "transaction_id", "pk")
    )
    for entry in entries.iterator(chunk_size=2000):
        t = entry.transaction
        yield writer.writerow(
            [
                t.pk,
                t.occurred_at.isoformat(),
                t.kind,
                cell(t.description),
                account_key(entry.account),
                entry.amount,
                community.currency,
            ]
        )


def ledger_csv_response(*, community: Community) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        ledger_rows(community=community), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{community.slug}-ledger.csv"'
    return response
