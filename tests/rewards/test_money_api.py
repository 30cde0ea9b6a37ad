"""The money API's contract (SPEC §5): offline payments, a week's budgets, the ledger, its
balances and export, corrections — and who may do what. Organisers need a two-factor sign-in
(COMMUNITY_ORGANISER_MFA_REQUIRED is on in the tests)."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import Community, CommunityAuditLog, Membership
from rewards import exports, schedules, services
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, Entry, Payment, Refund, Transaction
from tests.factories import (
    PASSWORD,
    add_member,
    bulk_prizes,
    make_community,
    mfa_sign_in,
    mfa_token,
    organiser_of,
    set_status,
    totp_activate,
)
from tests.rewards.helpers import RECEIVED, SHANGHAI, pay

pytestmark = pytest.mark.django_db

# A Wednesday in 2026-W10 (Monday 2 March); a month from it covers 4 March to 3 April.
PAYMENTS = "/api/v1/communities/circle/payments/"
LEDGER = "/api/v1/communities/circle/ledger/"
BALANCES = "/api/v1/communities/circle/ledger/balances/"
EXPORT = "/api/v1/communities/circle/ledger/export/"
MFA_MESSAGE = (
    "The money pages need two-factor authentication: turn it on (an authenticator app) and "
    "sign in with your code."
)


def week(label: str) -> str:
    return f"/api/v1/communities/circle/weeks/{label}/"


def reverse_url(payment_id: int, slug: str = "circle") -> str:
    return f"/api/v1/communities/{slug}/payments/{payment_id}/reverse/"


def row_counts() -> dict[str, int]:
    """What a refused request must leave as it was."""
    return {
        model.__name__: model.objects.count()
        for model in (Payment, Refund, Transaction, Entry, Account, CommunityAuditLog)
    }


def entries_of(transaction: Transaction) -> list[tuple[str, int]]:
    return sorted((e.account.kind, e.amount) for e in transaction.entries.select_related("account"))


@pytest.fixture
def organiser_api(api: APIClient, organiser: Membership) -> APIClient:
    """The organiser, with a token issued with a TOTP code."""
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, organiser.user)}")
    return api


@pytest.fixture
def elsewhere(db: None) -> Membership:
    """A member of another community."""
    return add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"})


def payload(who: Membership, **changes: Any) -> dict[str, Any]:
    data = {
        "member": who.pk,
        "kind": "entrance",
        "amount": 20000,
        "received_at": "2026-03-04T12:00:00+08:00",
    }
    return {**data, **changes}


# --- Recording an offline payment -----------------------------------------------------------


def test_the_mfa_setting_is_on_in_the_tests() -> None:
    assert settings.COMMUNITY_ORGANISER_MFA_REQUIRED is True


def test_an_offline_entrance_fee_enters_the_ledger_and_the_reward_schedule(
    organiser_api: APIClient, organiser: Membership, member: Membership
) -> None:
    # when
    response = organiser_api.post(
        PAYMENTS, payload(member, method="cash", reference="receipt 17"), format="json"
    )

    # then: the payment, as the API shows it
    assert response.status_code == 201, response.content
    payment = Payment.objects.get()
    body = response.json()
    assert datetime.datetime.fromisoformat(body.pop("received_at")) == RECEIVED
    assert body == {
        "id": payment.pk,
        "member": member.pk,
        "kind": "entrance",
        "method": "cash",
        "amount": 20000,
        "currency": "CNY",
        "reference": "receipt 17",
        "refunds": [],
    }
    assert (payment.membership, payment.amount, payment.received_at) == (member, 20000, RECEIVED)
    assert (payment.recorded_by, payment.stripe_id) == (organiser.user, "")

    # the ledger: one balanced transaction, cash in, the reward fund credited, linked and signed
    posted = Transaction.objects.get()
    assert (posted.kind, posted.payment, posted.refund, posted.reverses) == (
        Transaction.Kind.PAYMENT,
        payment,
        None,
        None,
    )
    assert (posted.description, posted.occurred_at, posted.posted_by) == (
        "Entrance fee · plain",
        RECEIVED,
        organiser.user,
    )
    assert posted.idempotency_key == f"payment:{payment.pk}"
    assert entries_of(posted) == [("offline_cash", 20000), ("reward_fund", -20000)]
    audit = CommunityAuditLog.objects.get(event=MoneyEvent.PAYMENT_RECORDED)
    assert (audit.actor, audit.membership, audit.data) == (
        organiser.user,
        member,
        {"payment": payment.pk, "kind": "entrance", "amount": 20000, "method": "cash"},
    )

    # the schedule: 52 weekly shares from the week after (20000 = 32 × 385 + 20 × 384)
    budgets = {
        label: organiser_api.get(week(label)).json()["reward_budget"]
        for label in ("2026-W10", "2026-W11", "2026-W42", "2026-W43", "2027-W09", "2027-W10")
    }
    assert budgets == {
        "2026-W10": 0,
        "2026-W11": 385,
        "2026-W42": 385,
        "2026-W43": 384,
        "2027-W09": 384,
        "2027-W10": 0,
    }
    shares = schedules.reward_shares(community=member.community)
    assert (len(shares), sum(shares.values())) == (52, 20000)
    assert schedules.operations_shares(community=member.community) == {}


def test_an_offline_monthly_fee_enters_the_operations_schedule_by_days(
    organiser_api: APIClient, member: Membership
) -> None:
    # when: 10.00 received on Wednesday 4 March, covering 4 March to 3 April (31 days)
    response = organiser_api.post(PAYMENTS, payload(member, kind="monthly", amount=1000))

    # then: spread 5/7/7/7/5 days over five weeks, the remainder fen to the earliest largest
    assert response.status_code == 201, response.content
    assert entries_of(Transaction.objects.get()) == [
        ("offline_cash", 1000),
        ("operations_fund", -1000),
    ]
    labels = ["2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14", "2026-W15"]
    found = [
        (
            organiser_api.get(week(label)).json()["operations_budget"],
            organiser_api.get(week(label)).json()["reward_budget"],
        )
        for label in labels
    ]
    assert found == [(0, 0), (161, 0), (226, 0), (226, 0), (226, 0), (161, 0), (0, 0)]


def test_a_payment_activates_a_pending_member(organiser_api: APIClient, member: Membership) -> None:
    set_status(member, Membership.Status.PENDING)
    response = organiser_api.post(PAYMENTS, payload(member, kind="monthly", amount=1000))
    assert response.status_code == 201, response.content
    member.refresh_from_db()
    assert member.status == Membership.Status.ACTIVE


def test_a_time_a_minute_ahead_of_our_clock_is_accepted(
    organiser_api: APIClient, member: Membership
) -> None:
    # the payer's bank's clock may be a little fast (five minutes' grace)
    ahead = timezone.now() + datetime.timedelta(minutes=1)
    response = organiser_api.post(PAYMENTS, payload(member, received_at=ahead.isoformat()))
    assert response.status_code == 201, response.content


BAD_INPUT = [
    ({"amount": -100}, "amount"),
    ({"amount": 0}, "amount"),
    ({"amount": 1_000_000_001}, "amount"),  # over 10 million yuan: a typing error
    ({"amount": 10**20}, "amount"),
    ({"amount": "200.00"}, "amount"),
    ({"amount": 200.0}, "amount"),
    ({"amount": 20000.0}, "amount"),
    ({"amount": "20000"}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": None}, "amount"),
    ({"amount": ...}, "amount"),  # missing
    ({"received_at": "FUTURE"}, "received_at"),
    ({"received_at": "2026-03-04T12:00:00"}, "received_at"),  # no offset
    ({"received_at": "2026-03-04 12:00"}, "received_at"),
    ({"received_at": "2026-03-04"}, "received_at"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"received_at": "2015-03-04T12:00:00+08:00"}, "received_at"),  # over ten years ago
    ({"received_at": ...}, "received_at"),
    ({"member": 999_999}, "member"),
    ({"member": "ELSEWHERE"}, "member"),  # a member of another community
    ({"member": "plain"}, "member"),
    ({"member": 0}, "member"),
    ({"member": ...}, "member"),
    ({"kind": "tip"}, "kind"),
    ({"kind": "bogus"}, "kind"),
    ({"kind": "Entrance"}, "kind"),
    ({"kind": ""}, "kind"),
    ({"method": "stripe"}, "method"),  # Stripe payments come from Stripe, not by hand
    ({"method": "cheque"}, "method"),
    ({"currency": "USD"}, "currency"),  # unknown fields are named, not ignored
    ({"recorded_by": 1}, "recorded_by"),
    ({"reference": "x" * 201}, "reference"),
]


@pytest.mark.parametrize(
    ("changes", "field"), BAD_INPUT, ids=[f"{f}={c[f]!r}"[:40] for c, f in BAD_INPUT]
)
def test_bad_payment_input_is_refused_naming_the_field_and_writes_nothing(
    organiser_api: APIClient,
    member: Membership,
    elsewhere: Membership,
    changes: dict[str, Any],
    field: str,
) -> None:
    # given
    data = payload(member, **changes)
    if data.get("member") == "ELSEWHERE":
        data["member"] = elsewhere.pk
    if data.get("received_at") == "FUTURE":
        data["received_at"] = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    data = {k: v for k, v in data.items() if v is not ...}
    before = row_counts()

    # when
    response = organiser_api.post(PAYMENTS, data, format="json")

    # then: 400 naming the field, and not a row written anywhere
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert row_counts() == before
    member.refresh_from_db()
    assert member.status == Membership.Status.ACTIVE


def test_several_unknown_fields_are_all_named(organiser_api: APIClient, member: Membership) -> None:
    before = row_counts()
    response = organiser_api.post(PAYMENTS, payload(member, status="paid", note="x"))
    assert (response.status_code, response.json()) == (
        400,
        {"note": ["Unknown field."], "status": ["Unknown field."]},
    )
    assert row_counts() == before


@pytest.mark.parametrize("body", [[], "20000", 20000, None], ids=str)
def test_a_body_that_is_not_an_object_is_refused(
    organiser_api: APIClient, member: Membership, body: Any
) -> None:
    before = row_counts()
    response = organiser_api.post(PAYMENTS, body, format="json")
    assert response.status_code == 400, response.content
    assert row_counts() == before


def test_malformed_json_is_refused(organiser_api: APIClient) -> None:
    before = row_counts()
    response = organiser_api.post(PAYMENTS, '{"amount": 20000,', content_type="application/json")
    assert response.status_code == 400
    assert row_counts() == before


def test_the_organiser_lists_every_payment_with_its_refunds(
    organiser_api: APIClient, member: Membership, moderator: Membership
) -> None:
    first = pay(member)
    second = pay(moderator, Payment.Kind.MONTHLY, 1000, RECEIVED + datetime.timedelta(days=1))
    refund = services.payment_reverse(payment=first, reason=Refund.Reason.CORRECTION, amount=500)

    body = organiser_api.get(PAYMENTS).json()

    assert body["count"] == 2
    assert [(p["id"], p["member"], p["kind"], p["amount"]) for p in body["results"]] == [
        (second.pk, moderator.pk, "monthly", 1000),
        (first.pk, member.pk, "entrance", 20000),
    ]
    assert [(r["id"], r["reason"], r["amount"]) for r in body["results"][1]["refunds"]] == [
        (refund.pk, "correction", 500)
    ]


# --- A week's budgets -----------------------------------------------------------------------


def test_a_member_reads_a_week_s_budgets(api: APIClient, member: Membership) -> None:
    pay(member)
    pay(member, Payment.Kind.MONTHLY, 1000)
    api.force_authenticate(member.user)

    response = api.get(week("2026-W11"))

    assert response.status_code == 200
    assert response.json() == {
        "week": "2026-W11",
        "begins_at": "2026-03-09T00:00:00+08:00",
        "ends_at": "2026-03-16T00:00:00+08:00",
        "currency": "CNY",
        "reward_budget": 385,
        "operations_budget": 226,
        "reward_scheduled": 385,
        "operations_scheduled": 226,
        "rollover_in": {"reward": 0, "operations": 0},
        "late_shares": {"reward": 0, "operations": 0},
        "adjustments": {"reward": 0, "operations": 0},
        "rollover_out": None,
        "closed": False,
        "winners": [],
        "moderator": None,
        "moderator_pay": None,
        "kpis": {},
    }


@pytest.mark.parametrize(
    "label", ["2026-48", "2026-W54", "2026-W00", "1969-W01", "abc", "2026-W1", "2026-w11"]
)
def test_a_week_that_does_not_exist_is_404(api: APIClient, member: Membership, label: str) -> None:
    api.force_authenticate(member.user)
    assert api.get(week(label)).status_code == 404


def test_the_weeks_of_an_unknown_community_are_404(api: APIClient, member: Membership) -> None:
    api.force_authenticate(member.user)
    assert api.get("/api/v1/communities/nowhere/weeks/2026-W11/").status_code == 404


# --- The ledger, its balances and export ----------------------------------------------------


def test_the_ledger_lists_transactions_with_their_entries_newest_first(
    organiser_api: APIClient, books: dict[str, Any], member: Membership, moderator: Membership
) -> None:
    body = organiser_api.get(LEDGER).json()

    assert (body["count"], body["next"], body["previous"]) == (4, None, None)
    assert [t["id"] for t in body["results"]] == [
        books[name].pk for name in ("prize", "correction", "monthly", "entrance")
    ]
    correction = body["results"][1]
    assert datetime.datetime.fromisoformat(correction.pop("occurred_at")) == datetime.datetime(
        2026, 5, 7, 18, 0, tzinfo=SHANGHAI
    )
    correction.pop("posted_at")
    assert correction == {
        "id": books["correction"].pk,
        "kind": "refund",
        "description": "Correction of a mistaken record · Entrance fee · plain",
        "payment": None,
        "refund": books["correction"].refund_id,
        "reverses": None,
        "entries": [
            {"account": "offline_cash", "amount": -5000},
            {"account": "reward_fund", "amount": 5000},
        ],
    }
    assert body["results"][0]["entries"] == [
        {"account": "reward_fund", "amount": 3000},
        {"account": f"member_payable:{moderator.pk}", "amount": -3000},
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=payment", ["monthly", "entrance"]),
        ("kind=refund", ["correction"]),
        ("kind=week_close", ["prize"]),
        ("kind=tip", []),
        ("week=2026-W10", ["entrance"]),
        ("week=2026-W19", ["prize", "correction", "monthly"]),
        ("week=2026-W20", []),
        ("member=MEMBER", ["correction", "entrance"]),
        ("member=MODERATOR", ["prize", "monthly"]),
        ("member=ORGANISER", []),
        ("kind=payment&member=MEMBER", ["entrance"]),
        ("kind=payment&week=2026-W19&member=MODERATOR", ["monthly"]),
        ("kind=&week=&member=", ["prize", "correction", "monthly", "entrance"]),
    ],
)
def test_the_ledger_filters_by_kind_week_and_member(
    organiser_api: APIClient,
    books: dict[str, Any],
    organiser: Membership,
    member: Membership,
    moderator: Membership,
    query: str,
    expected: list[str],
) -> None:
    query = (
        query.replace("MEMBER", str(member.pk))
        .replace("MODERATOR", str(moderator.pk))
        .replace("ORGANISER", str(organiser.pk))
    )
    response = organiser_api.get(f"{LEDGER}?{query}")
    assert response.status_code == 200, response.content
    assert [t["id"] for t in response.json()["results"]] == [books[n].pk for n in expected]
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=bogus", "kind"),
        ("kind=PAYMENT", "kind"),
        ("week=2026-48", "week"),
        ("week=2026-W54", "week"),
        ("week=last", "week"),
        ("member=abc", "member"),
        ("member=-1", "member"),
        ("member=1.5", "member"),
        ("member=0", "member"),
        ("member=999999", "member"),
        ("member=ELSEWHERE", "member"),
        ("kind=%00", "kind"),
    ],
)
def test_bad_ledger_filters_are_400_naming_the_parameter(
    organiser_api: APIClient, books: dict[str, Any], elsewhere: Membership, query: str, field: str
) -> None:
    response = organiser_api.get(f"{LEDGER}?{query.replace('ELSEWHERE', str(elsewhere.pk))}")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]


def test_balances_are_signed_and_sum_to_zero(
    organiser_api: APIClient, books: dict[str, Any], moderator: Membership
) -> None:
    response = organiser_api.get(BALANCES)

    assert response.status_code == 200
    assert response.json() == [
        {"account": f"member_payable:{moderator.pk}", "balance": -3000},
        {"account": "offline_cash", "balance": 16000},
        {"account": "operations_fund", "balance": -1000},
        {"account": "reward_fund", "balance": -12000},
    ]
    assert sum(b["balance"] for b in response.json()) == 0


def test_the_csv_export_reconciles_to_the_balances_to_the_fen(
    organiser_api: APIClient, books: dict[str, Any]
) -> None:
    # when
    response = organiser_api.get(EXPORT)

    # then: every entry, one line each; per account the totals are the balances
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="circle-ledger.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == exports.COLUMNS
    assert len(rows) == Entry.objects.count() == 8
    totals: dict[str, int] = defaultdict(int)
    per_transaction: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["account"]] += int(row["amount"])
        per_transaction[row["transaction"]] += int(row["amount"])
        assert row["currency"] == "CNY"
    balances = {b["account"]: b["balance"] for b in organiser_api.get(BALANCES).json()}
    assert dict(totals) == balances
    assert set(per_transaction.values()) == {0}
    assert [r["transaction"] for r in rows[:2]] == [str(books["entrance"].pk)] * 2
    assert (rows[0]["kind"], rows[0]["description"]) == ("payment", "Entrance fee · plain")


# --- Corrections ----------------------------------------------------------------------------


def test_a_partial_then_the_remaining_correction_reverse_without_deleting(
    organiser_api: APIClient, organiser: Membership, member: Membership
) -> None:
    # given: an entrance fee recorded as 200.00 that should have been 150.00
    payment = pay(member)
    original = Transaction.objects.get(payment=payment)

    # when: 50.00 of it is corrected
    response = organiser_api.post(
        reverse_url(payment.pk), {"amount": 5000, "note": "typed 200 for 150"}
    )

    # then: a correction with reversing entries; the payment and its transaction stay
    assert response.status_code == 201, response.content
    refund = Refund.objects.get()
    assert (refund.payment, refund.reason, refund.amount, refund.note, refund.recorded_by) == (
        payment,
        Refund.Reason.CORRECTION,
        5000,
        "typed 200 for 150",
        organiser.user,
    )
    body = response.json()
    assert [(r["id"], r["reason"], r["amount"], r["note"]) for r in body["refunds"]] == [
        (refund.pk, "correction", 5000, "typed 200 for 150")
    ]
    reversing = Transaction.objects.get(refund=refund)
    assert (reversing.kind, reversing.reverses, reversing.posted_by) == (
        Transaction.Kind.REFUND,
        None,
        organiser.user,
    )
    assert entries_of(reversing) == [("offline_cash", -5000), ("reward_fund", 5000)]
    assert entries_of(original) == [("offline_cash", 20000), ("reward_fund", -20000)]
    assert Payment.objects.get().amount == 20000
    assert organiser_api.get(BALANCES).json() == [
        {"account": "offline_cash", "balance": 15000},
        {"account": "reward_fund", "balance": -15000},
    ]
    audit = CommunityAuditLog.objects.get(event=MoneyEvent.PAYMENT_REVERSED)
    assert (audit.actor, audit.data) == (
        organiser.user,
        {"payment": payment.pk, "refund": refund.pk, "reason": "correction", "amount": 5000},
    )

    # when: the rest is reversed (no amount: all that is left)
    response = organiser_api.post(reverse_url(payment.pk), {})

    # then: 150.00 more goes back; the books hold nothing of it; nothing was deleted
    assert response.status_code == 201, response.content
    assert [r["amount"] for r in response.json()["refunds"]] == [5000, 15000]
    assert Transaction.objects.count() == 3
    assert Entry.objects.count() == 6
    assert organiser_api.get(BALANCES).json() == [
        {"account": "offline_cash", "balance": 0},
        {"account": "reward_fund", "balance": 0},
    ]
    # the schedule holds what stayed paid: nothing
    assert sum(schedules.reward_shares(community=member.community).values()) == 0
    # a correction is not a refund: the member stays
    member.refresh_from_db()
    assert member.status == Membership.Status.ACTIVE

    # when: anything more is asked back
    before = row_counts()
    for data in ({"amount": 1}, {}):
        response = organiser_api.post(reverse_url(payment.pk), data)
        # then: refused, naming the amount, nothing written
        assert (response.status_code, list(response.json())) == (400, ["amount"])
    assert row_counts() == before


def test_the_ledger_is_written_in_the_site_s_language_whoever_posts(
    organiser_api: APIClient, member: Membership, settings: Any
) -> None:
    # given: an organiser browsing in Chinese, on a site whose language is English
    settings.LANGUAGE_CODE = "en"
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    # when: they record a payment and correct part of it
    response = organiser_api.post(PAYMENTS, payload(member, kind="monthly", amount=1000), **chinese)
    assert response.status_code == 201, response.content
    payment_id = response.json()["id"]
    refused = organiser_api.post(reverse_url(payment_id), {"amount": 0}, **chinese)
    assert refused.status_code == 400
    assert re.search("[\u4e00-\u9fff]", str(refused.json()))  # they are answered in Chinese
    corrected = organiser_api.post(
        reverse_url(payment_id), {"amount": 300, "note": "少收"}, **chinese
    )
    assert corrected.status_code == 201, corrected.content
    # then: the ledger reads in English, like what the webhooks post
    assert sorted(Transaction.objects.values_list("description", flat=True)) == [
        "Correction of a mistaken record · Monthly fee · plain",
        "Monthly fee · plain",
    ]


def test_a_full_correction_reverses_the_original_transaction(
    organiser_api: APIClient, member: Membership
) -> None:
    payment = pay(member, Payment.Kind.MONTHLY, 1000)
    original = Transaction.objects.get(payment=payment)

    response = organiser_api.post(reverse_url(payment.pk), {"amount": 1000, "note": "twice"})

    assert response.status_code == 201, response.content
    reversing = Transaction.objects.get(refund__payment=payment)
    assert reversing.reverses == original
    assert entries_of(reversing) == [("offline_cash", -1000), ("operations_fund", 1000)]
    # the schedule holds what stayed paid (the correction enters from its own date)
    assert sum(schedules.operations_shares(community=member.community).values()) == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": 20001}, "amount"),  # more than was paid
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "50.00"}, "amount"),
        ({"amount": 50.0}, "amount"),
        ({"amount": "5000"}, "amount"),
        ({"note": "x" * 501}, "note"),
        ({"reason": "refund"}, "reason"),  # corrections only, here
        ({"at": "2026-03-05T12:00:00+08:00"}, "at"),
    ],
    ids=str,
)
def test_a_bad_correction_is_refused_and_writes_nothing(
    organiser_api: APIClient, member: Membership, data: dict[str, Any], field: str
) -> None:
    payment = pay(member)
    before = row_counts()

    response = organiser_api.post(reverse_url(payment.pk), data, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert row_counts() == before


def test_a_stripe_payment_is_not_corrected_by_hand(
    organiser_api: APIClient, member: Membership
) -> None:
    payment = services.payment_record(
        community=member.community,
        membership=member,
        kind=Payment.Kind.ENTRANCE,
        amount=20000,
        received_at=RECEIVED,
        method=Payment.Method.STRIPE,
        stripe_id="pi_test_1",
    )
    before = row_counts()
    response = organiser_api.post(reverse_url(payment.pk), {"note": "refunded at Stripe"})
    assert row_counts() == before
    assert response.status_code == 400


def test_reversing_an_unknown_payment_or_another_community_s_is_404(
    organiser_api: APIClient, elsewhere: Membership
) -> None:
    theirs = pay(elsewhere)
    before = row_counts()
    assert organiser_api.post(reverse_url(theirs.pk), {}).status_code == 404
    assert organiser_api.post(reverse_url(999_999), {}).status_code == 404
    assert row_counts() == before


# --- Who may do what ------------------------------------------------------------------------


def organiser_calls(payment: Payment, member: Membership) -> list[tuple[str, str, Any]]:
    """Every organiser-only money call, with a valid body."""
    return [
        ("get", PAYMENTS, None),
        ("post", PAYMENTS, payload(member, kind="monthly", amount=1000)),
        ("get", LEDGER, None),
        ("get", f"{LEDGER}?kind=payment", None),
        ("get", BALANCES, None),
        ("get", EXPORT, None),
        ("post", reverse_url(payment.pk), {"amount": 100}),
    ]


def call(api: APIClient, method: str, url: str, data: Any) -> Any:
    return api.post(url, data, format="json") if method == "post" else api.get(url)


def assert_all_refused(
    api: APIClient, calls: list[tuple[str, str, Any]], status: int = 403, detail: str = ""
) -> None:
    before = row_counts()
    for method, url, data in calls:
        response = call(api, method, url, data)
        assert response.status_code == status, (method, url, response.content)
        if detail:
            assert response.json() == {"detail": detail}, url
    assert row_counts() == before


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.MODERATOR])
def test_members_and_moderators_may_not_use_the_organiser_s_money_calls(
    api: APIClient, community: Community, role: str
) -> None:
    # given: a member or moderator — even one signed in with a TOTP code
    someone = add_member(community, role=role, profile={"handle": "someone"})
    payment = pay(someone)
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, someone.user)}")
    # then
    assert_all_refused(
        api,
        organiser_calls(payment, someone),
        detail="Only organisers of this community can do this.",
    )


def test_an_organiser_without_two_factor_authentication_is_refused(
    api: APIClient, organiser: Membership, member: Membership
) -> None:
    payment = pay(member)
    api.force_authenticate(organiser.user)  # no TOTP at all
    assert_all_refused(api, organiser_calls(payment, member), detail=MFA_MESSAGE)


def test_an_organiser_with_totp_but_a_password_only_session_is_refused(
    api: APIClient, organiser: Membership, member: Membership
) -> None:
    payment = pay(member)
    totp_activate(organiser.user)
    api.force_login(organiser.user)  # a session without allauth's record of the code
    assert_all_refused(api, organiser_calls(payment, member), detail=MFA_MESSAGE)


def test_an_organiser_whose_session_passed_the_totp_step_may(
    api: APIClient, organiser: Membership, member: Membership
) -> None:
    payment = pay(member)
    mfa_sign_in(api, organiser.user)
    for method, url, data in organiser_calls(payment, member):
        response = call(api, method, url, data)
        assert response.status_code in (200, 201), (url, response.content)


def test_a_token_issued_before_totp_was_turned_on_is_refused(
    api: APIClient, organiser: Membership, member: Membership
) -> None:
    # given: a token from the password alone, then TOTP turned on
    payment = pay(member)
    response = api.post(
        "/api/v1/auth/token/", {"username": organiser.user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    totp_activate(organiser.user)
    # then
    assert_all_refused(api, organiser_calls(payment, member), detail=MFA_MESSAGE)


def test_once_totp_is_on_a_token_needs_the_code(api: APIClient, organiser: Membership) -> None:
    totp_activate(organiser.user)
    response = api.post(
        "/api/v1/auth/token/", {"username": organiser.user.email, "password": PASSWORD}
    )
    assert (response.status_code, list(response.json())) == (400, ["code"])
    response = api.post(
        "/api/v1/auth/token/",
        {"username": organiser.user.email, "password": PASSWORD, "code": "000000"},
    )
    assert (response.status_code, list(response.json())) == (400, ["code"])


def test_a_token_issued_with_the_code_after_totp_may(
    organiser_api: APIClient, member: Membership
) -> None:
    payment = pay(member)
    expected = [200, 201, 200, 200, 200, 200, 201]
    found = [call(organiser_api, *c).status_code for c in organiser_calls(payment, member)]
    assert found == expected


def test_a_token_asked_for_with_the_code_after_turning_totp_on_may(
    api: APIClient, organiser: Membership, member: Membership
) -> None:
    # given: an organiser who used the API before turning TOTP on
    payment = pay(member)
    old = api.post("/api/v1/auth/token/", {"username": organiser.user.email, "password": PASSWORD})
    assert old.status_code == 200
    secret = totp_activate(organiser.user)
    # when: they ask for a token again, now with their code
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, organiser.user, secret)}")
    # then: the money calls are open to them
    assert call(api, *organiser_calls(payment, member)[2]).status_code == 200


def test_another_community_s_organiser_is_refused(
    api: APIClient, member: Membership, elsewhere: Membership
) -> None:
    payment = pay(member)
    stranger = organiser_of(elsewhere.community)
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, stranger.user)}")
    assert_all_refused(
        api,
        organiser_calls(payment, member),
        detail="Only organisers of this community can do this.",
    )
    # nor may they record a payment for one of this community's members through their own
    before = row_counts()
    response = api.post("/api/v1/communities/elsewhere/payments/", payload(member), format="json")
    assert (response.status_code, list(response.json())) == (400, ["member"])
    assert row_counts() == before


def test_visitors_are_asked_to_sign_in(api: APIClient, member: Membership) -> None:
    payment = pay(member)
    assert_all_refused(api, organiser_calls(payment, member), status=401)
    assert api.get(week("2026-W11")).status_code == 401


def test_an_unknown_community_is_404_for_an_organiser(organiser_api: APIClient) -> None:
    assert organiser_api.get("/api/v1/communities/nowhere/ledger/").status_code == 404


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        (Membership.Role.ORGANISER, Membership.Status.ACTIVE, 200),
        (Membership.Role.MODERATOR, Membership.Status.ACTIVE, 200),
        (Membership.Role.MEMBER, Membership.Status.ACTIVE, 200),
        (Membership.Role.MEMBER, Membership.Status.LAPSED, 200),  # read-only, still a member
        (Membership.Role.MEMBER, Membership.Status.PENDING, 403),
        (Membership.Role.MEMBER, Membership.Status.LEFT, 403),
        (Membership.Role.CANDIDATE, Membership.Status.ACTIVE, 403),
    ],
)
def test_who_reads_a_week_s_budgets(
    api: APIClient, community: Community, role: str, status: str, expected: int
) -> None:
    someone = add_member(community, profile={"handle": "someone"})
    set_status(someone, status, role)
    api.force_authenticate(someone.user)  # no second factor needed for the week's budgets
    assert api.get(week("2026-W11")).status_code == expected


def test_a_member_of_another_community_may_not_read_its_weeks(
    api: APIClient, community: Community, elsewhere: Membership
) -> None:
    api.force_authenticate(elsewhere.user)
    assert api.get(week("2026-W11")).status_code == 403


def test_members_see_their_own_payments_and_earnings_and_nobody_else_s(
    client: Client, member: Membership, community: Community
) -> None:
    # given: my payments and a prize; another member's payments and prize
    other = add_member(community, profile={"handle": "neighbour"})
    mine = pay(member, Payment.Kind.ENTRANCE, 20000)
    pay(member, Payment.Kind.MONTHLY, 1000, RECEIVED + datetime.timedelta(days=30))
    services.payment_reverse(payment=mine, reason=Refund.Reason.CORRECTION, amount=1111)
    pay(other, Payment.Kind.ENTRANCE, 31415)
    pay(other, Payment.Kind.MONTHLY, 2718)
    when = timezone.now() - datetime.timedelta(days=2)
    bulk_prizes(community, [(member, 4242, when), (other, 9876, when)])

    # when
    client.force_login(member.user)
    response = client.get("/c/circle/fund/")

    # then: mine, with the correction, and my balance — nothing of the neighbour's
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("¥200.00", "¥10.00", "¥11.11", "¥42.42", 'id="my-balance">¥42.42<'):
        assert shown in page, shown
    assert "-¥42.42" not in page  # a prize is shown as money earned, not as a credit
    for hidden in ("¥314.15", "¥27.18", "¥98.76", "neighbour"):
        assert hidden not in page, hidden
    assert list(response.context["payments"]) == list(
        Payment.objects.filter(membership=member).order_by("-received_at")
    )
    assert [(e.amount, e.earned) for e in response.context["earnings"]] == [(-4242, 4242)]


def test_the_currency_cannot_change_once_the_ledger_holds_money(
    api: APIClient, organiser: Membership, member: Membership
) -> None:
    api.force_authenticate(organiser.user)
    # before any money: the organiser may still change it
    assert api.patch("/api/v1/communities/circle/", {"currency": "USD"}).status_code == 200
    assert api.patch("/api/v1/communities/circle/", {"currency": "CNY"}).status_code == 200
    pay(member)
    before = row_counts()
    response = api.patch("/api/v1/communities/circle/", {"currency": "USD", "name": "Renamed"})
    assert response.status_code == 400
    assert list(response.json()) == ["currency"]
    assert "CNY" in response.json()["currency"][0]
    assert row_counts() == before
    member.community.refresh_from_db()
    assert (member.community.currency, member.community.name) == ("CNY", "Circle")
    # the same currency sent again (as the settings form does) is fine
    assert api.patch("/api/v1/communities/circle/", {"currency": "CNY"}).status_code == 200
