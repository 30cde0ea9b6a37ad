"""The money pages and endpoints run a fixed number of SQL queries whatever the history: each
is measured for a small community (10 members, a month of payments) and for one of 500
members with two years of payments (about 6,800 payments, corrections and prizes), with the
same budget. Posting a payment is a fixed number of queries too. (Portal pages include one
query for the header's unread-notification count; organisers' pages one for the TOTP check.)"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from members import weeks
from members.models import Community, Membership
from rewards import services
from rewards.models import Entry, Payment, Transaction
from tests.factories import (
    add_member,
    bulk_members,
    bulk_payments,
    bulk_prizes,
    bulk_refunds,
    make_community,
    mfa_sign_in,
    mfa_token,
    organiser_of,
)
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)
# (members, weeks of history)
SIZES = {"small": (10, 4), "large": (500, 104)}


@dataclass(frozen=True)
class Books:
    community: Community
    organiser: Membership
    member: Membership  # one with payments, corrections and prizes
    payments: int
    transactions: int


def build(community: Community, members: list[Membership], weeks_back: int) -> None:
    """Members join one after another over ``weeks_back`` weeks (the membership grows), each
    paying the entrance fee on joining and the monthly fee every 30 days since; one monthly
    fee in 40 is partly corrected and one entrance fee in 97 wholly; three prizes a week."""
    now = timezone.now()
    start = now - weeks_back * WEEK
    step = (now - start - DAY) / len(members)
    rows = []
    for i, membership in enumerate(members):
        joined = start + i * step
        rows.append((membership, Payment.Kind.ENTRANCE, 20000, joined))
        paid = joined
        while paid < now - DAY:
            rows.append((membership, Payment.Kind.MONTHLY, 1000, paid))
            paid += 30 * DAY
    payments = bulk_payments(community, rows)
    monthly = [p for p in payments if p.kind == Payment.Kind.MONTHLY]
    entrance = [p for p in payments if p.kind == Payment.Kind.ENTRANCE]
    bulk_refunds(
        [(p, 500, p.received_at + DAY) for p in monthly[::40]]
        + [(p, p.amount, p.received_at + 2 * DAY) for p in entrance[::97]]
    )
    bulk_prizes(
        community,
        [
            (members[(3 * w + k) % len(members)], (5 - k) * 1000, start + w * WEEK + 6 * DAY)
            for w in range(weeks_back - 1)
            for k in range(3)
        ],
    )


@pytest.fixture(scope="module", params=list(SIZES), ids=lambda size: size)
def _books(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Books]:
    """Each size built once per module (tests/worlds.py): pytest runs one size's tests, rolls
    its books back, then builds the other (both use the slug the URLs name)."""
    n_members, weeks_back = SIZES[request.param]
    with shared_world(django_db_blocker):
        community = make_community(slug="budget", privacy_threshold=100_000)
        members = bulk_members(community, n_members)
        build(community, members, weeks_back)
        yield settled(
            Books(
                community=community,
                organiser=organiser_of(community),
                member=members[0],
                payments=Payment.objects.filter(community=community).count(),
                transactions=Transaction.objects.filter(community=community).count(),
            )
        )


@pytest.fixture
def books(_books: Books, db: None) -> Books:
    return fresh(_books)


def test_the_sizes_are_what_they_say(books: Books) -> None:
    expected = {10: (20, 25), 500: (6000, 7500)}[
        Membership.objects.filter(community=books.community).count() - 1
    ]
    assert expected[0] <= books.payments <= expected[1], books.payments


def resolve(url: str, books: Books) -> str:
    this_week = weeks.start_of(books.community)
    return url.replace("MEMBER", str(books.member.pk)).replace(
        "LASTWEEK", weeks.label(this_week - WEEK)
    )


PORTAL = [
    ("ledger", "/c/budget/ledger/", 9),
    ("ledger by kind", "/c/budget/ledger/?kind=refund", 9),
    ("ledger by week", "/c/budget/ledger/?week=LASTWEEK", 9),
    ("ledger by member", "/c/budget/ledger/?member=MEMBER", 10),
    ("ledger page 2", "/c/budget/ledger/?page=2", 9),
    ("statements", "/c/budget/ledger/weeks/", 20),
    ("payments", "/c/budget/payments/", 8),
    ("payment form", "/c/budget/payments/new/", 6),
]
API = [
    ("api ledger", "/api/v1/communities/budget/ledger/", 6),
    ("api ledger by member", "/api/v1/communities/budget/ledger/?member=MEMBER", 7),
    ("api ledger by week", "/api/v1/communities/budget/ledger/?week=LASTWEEK&kind=payment", 6),
    ("api balances", "/api/v1/communities/budget/ledger/balances/", 4),
    ("api payments", "/api/v1/communities/budget/payments/", 6),
    ("api week", "/api/v1/communities/budget/weeks/LASTWEEK/", 8),
]


@pytest.mark.parametrize(("name", "url", "budget"), PORTAL, ids=[p[0] for p in PORTAL])
def test_organiser_page_queries_are_fixed(
    books: Books,
    client: Client,
    django_assert_max_num_queries: Callable,
    name: str,
    url: str,
    budget: int,
) -> None:
    mfa_sign_in(client, books.organiser.user)
    with django_assert_max_num_queries(budget):
        response = client.get(resolve(url, books))
    assert response.status_code == 200


def test_the_export_streams_every_entry_in_fixed_queries(
    books: Books, client: Client, django_assert_max_num_queries: Callable
) -> None:
    mfa_sign_in(client, books.organiser.user)
    with django_assert_max_num_queries(5):
        response = client.get("/c/budget/ledger/export.csv")
        lines = b"".join(response.streaming_content).decode().count("\n")
    assert lines == 1 + Entry.objects.filter(transaction__community=books.community).count()


def test_the_member_fund_page_queries_are_fixed(
    books: Books, client: Client, django_assert_max_num_queries: Callable
) -> None:
    client.force_login(books.member.user)
    with django_assert_max_num_queries(17):
        response = client.get("/c/budget/fund/")
    assert response.status_code == 200
    assert response.context["payments"]


@pytest.mark.parametrize(("name", "url", "budget"), API, ids=[p[0] for p in API])
def test_api_queries_are_fixed(
    books: Books,
    api: APIClient,
    django_assert_max_num_queries: Callable,
    name: str,
    url: str,
    budget: int,
) -> None:
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, books.organiser.user)}")
    with django_assert_max_num_queries(budget):
        response = api.get(resolve(url, books))
    assert response.status_code == 200, response.content


def test_a_member_reads_a_week_in_fixed_queries(
    books: Books, api: APIClient, django_assert_max_num_queries: Callable
) -> None:
    api.force_authenticate(books.member.user)
    with django_assert_max_num_queries(7):
        response = api.get(resolve("/api/v1/communities/budget/weeks/LASTWEEK/", books))
    assert response.status_code == 200


@pytest.mark.parametrize("kind", [Payment.Kind.ENTRANCE, Payment.Kind.MONTHLY])
def test_posting_a_payment_is_a_fixed_number_of_queries(books: Books, kind: str) -> None:
    """Exactly, at both sizes: a member who has paid many times, and one paying for the first
    time. (Lock the member, write the payment, find the two accounts, post the transaction
    and its entries in a savepoint, the audit row, the membership's status.)"""
    newcomer = add_member(books.community, profile={"handle": "newcomer"})
    for payer in (books.member, newcomer):
        with CaptureQueriesContext(connection) as queries:
            services.payment_record(
                community=books.community,
                membership=payer,
                kind=kind,
                amount=20000,
                received_at=timezone.now() - DAY,
                method=Payment.Method.BANK_TRANSFER,
                recorded_by=books.organiser.user,
            )
        assert len(queries) == 15, [q["sql"][:60] for q in queries]
