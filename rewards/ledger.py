"""The ledger service: the one place money is posted.

Double-entry and append-only: a transaction is two or more entries summing to zero, posted
once per idempotency key (a database constraint), never updated or deleted; a correction is
a reversing transaction. On PostgreSQL a deferred trigger checks the zero sum again at commit
and refuses UPDATE and DELETE (rewards/migrations/0002).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import translation

from members.models import Community, Membership, User
from rewards.models import Account, Entry, Payment, Refund, Transaction
from rewards.money import allocate

Kind = Account.Kind


class UnbalancedTransactionError(ValueError):
    """The entries of a transaction do not sum to zero (a programming error)."""


def account(*, community: Community, kind: str, membership: Membership | None = None) -> Account:
    """The community's account of this kind (a member's own for payables), made on first use."""
    lookup = {"community": community, "kind": kind, "membership": membership}
    found = Account.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup)
    except IntegrityError:  # made by a concurrent request a moment ago
        return Account.objects.get(**lookup)


def describe(*parts: object) -> str:
    """A transaction's description, written in the site's language (LANGUAGE_CODE) whoever
    posts it — a webhook worker, an organiser browsing in Chinese — so the ledger reads the
    same throughout. Pass labels lazily (``Payment.Kind(kind).label``), not as displays
    already translated."""
    with translation.override(settings.LANGUAGE_CODE):
        return " · ".join(str(part) for part in parts)


def transaction_post(
    *,
    community: Community,
    kind: str,
    idempotency_key: str,
    description: str,
    occurred_at: datetime.datetime,
    lines: Sequence[tuple[Account, int]],
    payment: Payment | None = None,
    refund: Refund | None = None,
    reverses: Transaction | None = None,
    posted_by: User | None = None,
) -> Transaction:
    """Post a balanced transaction once: a second call with the same key returns the first
    transaction and writes nothing (two concurrent calls: the database lets one win)."""
    if len(lines) < 2:
        raise UnbalancedTransactionError("a transaction needs at least two entries")
    for line_account, amount in lines:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise UnbalancedTransactionError(f"entry amounts are non-zero ints, not {amount!r}")
        if line_account.community_id != community.pk:
            raise UnbalancedTransactionError("an entry's account belongs to another community")
    total = sum(amount for _account, amount in lines)
    if total != 0:
        raise UnbalancedTransactionError(f"entries sum to {total}, not 0")
    existing = Transaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            posted = Transaction.objects.create(
                community=community,
                kind=kind,
                idempotency_key=idempotency_key,
                description=description[:300],
                occurred_at=occurred_at,
                payment=payment,
                refund=refund,
                reverses=reverses,
                posted_by=posted_by,
            )
            Entry.objects.bulk_create(
                Entry(transaction=posted, account=line_account, amount=amount)
                for line_account, amount in lines
            )
    except IntegrityError:
        existing = Transaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return posted


def reversal_lines(original: Transaction, amount: int | None = None) -> list[tuple[Account, int]]:
    """The entries that undo ``original`` — all of it, or ``amount`` of it in proportion to its
    credits (a partial refund), exactly, through the allocation helper."""
    entries = list(original.entries.select_related("account").order_by("pk"))
    if amount is None:
        return [(e.account, -e.amount) for e in entries]
    debits = [e for e in entries if e.amount > 0]
    credits = [e for e in entries if e.amount < 0]
    lines = list(
        zip((e.account for e in debits), allocate(-amount, [e.amount for e in debits]), strict=True)
    )
    lines += list(
        zip(
            (e.account for e in credits),
            allocate(amount, [-e.amount for e in credits]),
            strict=True,
        )
    )
    return [(line_account, value) for line_account, value in lines if value != 0]


def balances(*, community: Community) -> list[tuple[Account, int]]:
    """Every account of the community with its signed balance, in one query."""
    accounts = (
        Account.objects.filter(community=community)
        .select_related("membership__profile")
        .annotate(balance=Sum("entries__amount", default=0))
        .order_by("kind", "membership_id", "pk")
    )
    return [(a, int(a.balance)) for a in accounts]


def holds_money(community: Community) -> bool:
    """Whether the community's ledger has accounts (money was recorded in its currency)."""
    return Account.objects.filter(community=community).exists()


def member_balance(*, membership: Membership) -> int:
    """What the community owes a member (their payable account, as a positive number)."""
    total = Entry.objects.filter(
        account__community_id=membership.community_id,
        account__kind=Kind.MEMBER_PAYABLE,
        account__membership=membership,
    ).aggregate(total=Sum("amount", default=0))["total"]
    return -int(total)


def trial_balance(*, community: Community) -> int:
    """The sum of every entry of the community: zero, always."""
    return int(
        Entry.objects.filter(transaction__community=community).aggregate(
            total=Sum("amount", default=0)
        )["total"]
    )


def transactions_touching(*, membership: Membership) -> Q:
    """Transactions about a member: their payments and refunds, and their payable account."""
    return (
        Q(payment__membership=membership)
        | Q(refund__payment__membership=membership)
        | Q(entries__account__membership=membership)
    )
