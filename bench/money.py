"""The money pages on two years of payments, on PostgreSQL. Prints p50/p95.

    DATABASE_URL=postgres://… .venv/bin/python bench/money.py

Builds (once) in a database of its own (``<name>_bench``, created if missing) a community
whose members join one after another over two years (the membership grows), each paying the
200.00 entrance fee on joining and the 10.00 monthly fee every 30 days since — 10,000
payments in all — with about 2% of them refunded or corrected (some wholly, some in part) and
three prizes a week, posted to the ledger as the services post them. Then times, after a
warm-up:

- ``rewards.schedules.budgets`` for the 104 weeks up to this one (the reward fund's 52 weekly
  shares of every entrance fee, the operations fund's per-day spread of every monthly fee);
- the organiser's ledger page (balances and the first 50 transactions with their entries),
  the same filtered by a member, the weekly statements page with its chart, and the balances
  API — whole requests through Django's test client, signed in with a second factor;
- a member's fund page, and the CSV export of every entry.
"""

from __future__ import annotations

import datetime
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "50"))
PAGE_ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "50"))
SLUG = "mbench"
WEEKS = 104


from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.common import get, timed
from members import services, weeks
from members.models import Community, Membership, User
from rewards import schedules
from rewards.models import Entry, Payment, Refund, Transaction
from tests.factories import bulk_members, bulk_payments, bulk_prizes, bulk_refunds, mfa_sign_in

DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)
MONTH = 30 * DAY


def _rows(
    members: list[Membership], start: datetime.datetime, end: datetime.datetime
) -> list[tuple[Membership, str, int, datetime.datetime]]:
    """Member i joins at start + i × step and pays monthly every 30 days until ``end``."""
    rows = []
    step = (end - start) / len(members)
    for i, membership in enumerate(members):
        joined = start + i * step
        rows.append((membership, Payment.Kind.ENTRANCE, 20000, joined))
        paid = joined
        while paid < end:
            rows.append((membership, Payment.Kind.MONTHLY, 1000, paid))
            paid += MONTH
    return rows


def members_for(payments: int) -> int:
    """How many members, joining evenly over two years, make about ``payments`` payments."""
    months = WEEKS * 7 / 30
    # each pays 1 + (months they were members) / 1 times; on average half of the period
    return max(1, round(payments / (1 + months / 2 + 0.5)))


def build() -> Community:
    community = Community.objects.filter(slug=SLUG).first()
    if community is not None and Payment.objects.filter(community=community).count() >= N_PAYMENTS:
        return community
    if community is not None:
        sys.exit(
            f"Community {SLUG!r} in {settings.DATABASES['default']['NAME']} is half-built: "
            "drop that database and run again."
        )
    print(f"Building {N_PAYMENTS:,} payments over two years (once)…", flush=True)
    started = time.perf_counter()
    rng = random.Random(10_000)
    with transaction.atomic():
        creator, _ = User.objects.get_or_create(
            username="money-bench-organiser", email="money-bench@example.com"
        )
        creator.set_password("bench-only-password")
        creator.save()
        community = services.community_create(
            creator=creator, slug=SLUG, name="Money bench", privacy_threshold=100_000
        )
        end = timezone.now() - DAY
        start = end - WEEKS * WEEK
        members = bulk_members(community, members_for(N_PAYMENTS) + 50, prefix="pay")
        rows = _rows(members, start, end)
        # exactly N_PAYMENTS: every entrance fee, and monthly fees left out at random
        entrance = [row for row in rows if row[1] == Payment.Kind.ENTRANCE]
        monthly = [row for row in rows if row[1] == Payment.Kind.MONTHLY]
        monthly = rng.sample(monthly, min(len(monthly), N_PAYMENTS - len(entrance)))
        rows = sorted(entrance + monthly, key=lambda row: row[3])
        payments = bulk_payments(community, rows)
        print(f"  {len(payments):,} payments", flush=True)
        chosen = rng.sample(payments, len(payments) // 50)
        bulk_refunds(
            [
                (
                    p,
                    p.amount if k % 3 == 0 else p.amount // 4,
                    p.received_at + rng.randint(1, 20) * DAY,
                )
                for k, p in enumerate(chosen)
                if p.received_at + 21 * DAY < timezone.now()
            ],
            reason=Refund.Reason.REFUND,
        )
        joined = {m for m, kind, _a, _t in rows if kind == Payment.Kind.ENTRANCE}
        paying = [m for m in members if m in joined]
        bulk_prizes(
            community,
            [
                (
                    rng.choice(paying[: max(3, len(paying) * (w + 1) // WEEKS)]),
                    prize,
                    start + w * WEEK + 6 * DAY,
                )
                for w in range(WEEKS)
                for prize in (10000, 6000, 4000)
            ],
        )
        services.community_sync_phase(community_id=community.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Built in {time.perf_counter() - started:.0f} s", flush=True)
    return community


# --- Measure --------------------------------------------------------------------------------


def budgets(community: Community, starts: list[datetime.date]) -> Callable[[], str]:
    def call() -> str:
        found = schedules.budgets(community=community, weeks=starts)
        return f"{len(found)} weeks"

    return call


def main() -> None:
    call_command("migrate", verbosity=0)
    community = build()
    organiser = Membership.objects.select_related("user").get(
        community=community, role=Membership.Role.ORGANISER
    )
    member = (
        Membership.objects.select_related("user")
        .filter(community=community, role=Membership.Role.MEMBER, payments__isnull=False)
        .order_by("pk")
        .first()
    )
    assert member is not None
    payments = Payment.objects.filter(community=community)
    print(
        f"\n{payments.count():,} payments "
        f"({payments.filter(kind=Payment.Kind.ENTRANCE).count():,} entrance fees, "
        f"{payments.filter(kind=Payment.Kind.MONTHLY).count():,} monthly), "
        f"{Refund.objects.filter(payment__community=community).count():,} refunds; "
        f"{Transaction.objects.filter(community=community).count():,} transactions, "
        f"{Entry.objects.filter(transaction__community=community).count():,} entries; "
        f"{Membership.objects.filter(community=community).count():,} members. "
        f"PostgreSQL {connection.pg_version}; {ROUNDS} rounds each "
        f"({PAGE_ROUNDS} for pages)\n"
    )
    this_week = weeks.start_of(community)
    starts = [this_week - k * WEEK for k in range(WEEKS - 1, -1, -1)]
    total = schedules.budgets(community=community, weeks=starts)
    print(
        f"  the 104 weeks' budgets: reward {sum(b.reward_budget for b in total) / 100:,.2f}, "
        f"operations {sum(b.operations_budget for b in total) / 100:,.2f}\n"
    )
    timed("schedules.budgets, 104 weeks", ROUNDS, budgets(community, starts))
    print()
    client = Client()
    mfa_sign_in(client, organiser.user)  # the organiser, signed in with a second factor
    timed(
        "ledger page (balances + 50 transactions)",
        PAGE_ROUNDS,
        get(client, f"/c/{SLUG}/ledger/", 'class="transaction"'),
    )
    timed(
        "ledger page, one member's transactions",
        PAGE_ROUNDS,
        get(client, f"/c/{SLUG}/ledger/?member={member.pk}", 'class="transaction"'),
    )
    timed(
        "ledger page, last week's payments",
        PAGE_ROUNDS,
        get(client, f"/c/{SLUG}/ledger/?kind=payment&week={weeks.label(this_week - WEEK)}"),
    )
    timed(
        "weekly statements page (34 weeks + chart)",
        PAGE_ROUNDS,
        get(client, f"/c/{SLUG}/ledger/weeks/", "<polyline"),
    )
    timed(
        "balances (API)",
        PAGE_ROUNDS,
        get(client, f"/api/v1/communities/{SLUG}/ledger/balances/", '"balance"'),
    )
    timed(
        "ledger (API, 20 transactions)",
        PAGE_ROUNDS,
        get(client, f"/api/v1/communities/{SLUG}/ledger/", '"entries"'),
    )
    timed(
        "CSV export of every entry",
        max(5, PAGE_ROUNDS // 10),
        get(client, f"/c/{SLUG}/ledger/export.csv", "reward_fund"),
    )
    member_client = Client()
    member_client.force_login(member.user)
    timed(
        "a member's fund page",
        PAGE_ROUNDS,
        get(member_client, f"/c/{SLUG}/fund/", "weekly-budgets"),
    )


if __name__ == "__main__":
    main()
