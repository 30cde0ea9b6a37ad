"""The ledger on PostgreSQL: balanced, posted once per key, append-only — in the service and
in the database."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from members.models import Community
from rewards import ledger
from rewards.models import Account, Entry, Transaction
from tests.factories import make_community

Kind = Account.Kind


@pytest.fixture
def circle(db: None) -> Community:
    return make_community(slug="ledger")


def _post(community: Community, key: str, amount: int = 500) -> Transaction:
    return ledger.transaction_post(
        community=community,
        kind=Transaction.Kind.PAYMENT,
        idempotency_key=key,
        description="test",
        occurred_at=timezone.now(),
        lines=[
            (ledger.account(community=community, kind=Kind.OFFLINE_CASH), amount),
            (ledger.account(community=community, kind=Kind.REWARD_FUND), -amount),
        ],
    )


def test_a_balanced_transaction_is_posted_and_balances_follow(circle: Community) -> None:
    _post(circle, "a", 500)
    _post(circle, "b", 700)
    balances = {a.kind: b for a, b in ledger.balances(community=circle)}
    assert balances == {Kind.OFFLINE_CASH: 1200, Kind.REWARD_FUND: -1200}
    assert ledger.trial_balance(community=circle) == 0


@pytest.mark.parametrize(
    "amounts", [[500, -499], [500], [0, 0], [500, -500.0], [True, -1]], ids=str
)
def test_an_unbalanced_or_malformed_transaction_is_refused(
    circle: Community, amounts: list[object]
) -> None:
    cash = ledger.account(community=circle, kind=Kind.OFFLINE_CASH)
    fund = ledger.account(community=circle, kind=Kind.REWARD_FUND)
    accounts = [cash, fund]
    with pytest.raises(ledger.UnbalancedTransactionError):
        ledger.transaction_post(
            community=circle,
            kind=Transaction.Kind.PAYMENT,
            idempotency_key="bad",
            description="bad",
            occurred_at=timezone.now(),
            lines=list(zip(accounts, amounts, strict=False)),  # type: ignore[arg-type]
        )
    assert not Transaction.objects.exists()
    assert not Entry.objects.exists()


def test_an_account_of_another_community_is_refused(circle: Community) -> None:
    other = make_community(slug="other")
    with pytest.raises(ledger.UnbalancedTransactionError):
        ledger.transaction_post(
            community=circle,
            kind=Transaction.Kind.PAYMENT,
            idempotency_key="x",
            description="x",
            occurred_at=timezone.now(),
            lines=[
                (ledger.account(community=circle, kind=Kind.OFFLINE_CASH), 1),
                (ledger.account(community=other, kind=Kind.REWARD_FUND), -1),
            ],
        )
    assert not Transaction.objects.exists()


def test_the_same_idempotency_key_posts_once(circle: Community) -> None:
    first = _post(circle, "once", 500)
    again = _post(circle, "once", 999)
    assert again.pk == first.pk
    assert Transaction.objects.count() == 1
    assert Entry.objects.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(
            community=circle, kind="payment", idempotency_key="once", description="dup",
            occurred_at=timezone.now(),
        )  # fmt: skip


def test_the_database_refuses_an_unbalanced_transaction_at_commit(circle: Community) -> None:
    cash = ledger.account(community=circle, kind=Kind.OFFLINE_CASH)

    def write_one_sided_transaction() -> None:
        with transaction.atomic():
            posted = Transaction.objects.create(
                community=circle, kind="payment", idempotency_key="raw", description="raw",
                occurred_at=timezone.now(),
            )  # fmt: skip
            Entry.objects.create(transaction=posted, account=cash, amount=100)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do

    with pytest.raises(IntegrityError, match="does not balance"):
        write_one_sided_transaction()
    assert not Entry.objects.exists()


def test_the_database_refuses_updates_and_deletes(circle: Community) -> None:
    posted = _post(circle, "fixed")
    entry = posted.entries.first()
    assert entry is not None
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transaction.objects.filter(pk=posted.pk).update(description="changed")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount


def test_a_reversal_undoes_exactly(circle: Community) -> None:
    original = _post(circle, "orig", 1001)
    lines = ledger.reversal_lines(original, 500)
    assert sorted(amount for _a, amount in lines) == [-500, 500]
    ledger.transaction_post(
        community=circle, kind=Transaction.Kind.REFUND, idempotency_key="rev",
        description="rev", occurred_at=timezone.now(),
        lines=ledger.reversal_lines(original), reverses=original,
    )  # fmt: skip
    assert {a.kind: b for a, b in ledger.balances(community=circle)} == {
        Kind.OFFLINE_CASH: 0,
        Kind.REWARD_FUND: 0,
    }


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_post_once() -> None:
    community = make_community(slug="race")
    ledger.account(community=community, kind=Kind.OFFLINE_CASH)
    ledger.account(community=community, kind=Kind.REWARD_FUND)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            results.append(_post(community, "race-key").pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert len(set(results)) == 1
    assert Transaction.objects.count() == 1
    assert Entry.objects.count() == 2


def test_accounts_are_made_once(circle: Community) -> None:
    a = ledger.account(community=circle, kind=Kind.PLATFORM_FEES)
    b = ledger.account(community=circle, kind=Kind.PLATFORM_FEES)
    assert a.pk == b.pk
    assert Account.objects.filter(community=circle, kind=Kind.PLATFORM_FEES).count() == 1


def test_occurred_at_is_kept(circle: Community) -> None:
    when = timezone.now() - datetime.timedelta(days=3)
    posted = ledger.transaction_post(
        community=circle, kind=Transaction.Kind.PAYMENT, idempotency_key="t",
        description="t", occurred_at=when,
        lines=[(ledger.account(community=circle, kind=Kind.OFFLINE_CASH), 1),
               (ledger.account(community=circle, kind=Kind.REWARD_FUND), -1)],
    )  # fmt: skip
    assert posted.occurred_at == when
