"""Stripe webhooks: signatures and their window, storing once, each handled event type, the
grace period and lapse, out-of-order and repeated deliveries (the ledger comes out
byte-identical), and two concurrent deliveries of one event posting once."""

from __future__ import annotations

import datetime
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from members.models import Community, CommunityAuditLog, Membership
from questions.models import Answer
from rewards import checkout, ledger, standing, webhooks
from rewards.models import CheckoutSession, Entry, Payment, Refund, StripeEvent, Transaction
from tests.factories import UserFactory, add_member, bulk_questions, make_community
from tests.rewards import fake_stripe as fs
from tests.rewards.fake_stripe import FakeStripe, deliver

pytestmark = pytest.mark.django_db

DAY = 86400
Status = Membership.Status


@dataclass
class World:
    community: Community
    joiner: Membership
    row: CheckoutSession
    session: dict[str, Any]
    metadata: dict[str, str]
    fake: FakeStripe
    t0: int

    @property
    def subscription(self) -> str:
        return str(self.session["subscription"])

    def invoice(self, n: int, *, amount: int, paid: bool = True, at: int = 0) -> dict[str, Any]:
        created = self.t0 + (n - 1) * 30 * DAY
        return fs.invoice(
            invoice_id=self.session["invoice"] if n == 1 else f"in_test_month{n}",
            subscription=self.subscription,
            metadata=self.metadata,
            amount=amount,
            created=created,
            paid_at=(at or created + 60) if paid else None,
            first=n == 1,
        )


def _urls(row: CheckoutSession) -> tuple[str, str]:
    return ("http://testserver/done/", "http://testserver/cancelled/")


def _start_join(fake: FakeStripe, community: Community) -> tuple[Membership, CheckoutSession]:
    user = UserFactory(username="joiner", email="joiner@example.com")
    row = checkout.join_start(user=user, community=community, urls=_urls)
    return row.membership, row


@pytest.fixture
def world(fake_stripe: FakeStripe, community: Community) -> World:
    """Someone who went through Stripe Checkout to join (not confirmed yet)."""
    joiner, row = _start_join(fake_stripe, community)
    session = fake_stripe.pay(row.stripe_session_id)
    metadata = dict(session["metadata"])
    return World(community, joiner, row, session, metadata, fake_stripe, fs.now() - 70 * DAY)


@pytest.fixture
def send(
    client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[[dict[str, Any]], Any]:
    """Deliver an event, running what it queues (Celery is eager in tests)."""

    def send(event: dict[str, Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, event)
        assert response.status_code == 200, response.content
        return response

    return send


def _status(event: dict[str, Any]) -> tuple[str, str]:
    row = StripeEvent.objects.get(event_id=event["id"])
    return row.status, row.error


def _lines(payment: Payment) -> list[tuple[str, int]]:
    return sorted(
        (e.account.kind, e.amount)
        for e in Entry.objects.filter(transaction__payment=payment).select_related("account")
    )


# --- Signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "offset"),
    [("wrong secret", 0), ("stale", -301), ("from the future", 301), ("no header", 0),
     ("tampered", 0), ("not json", 0), ("nested too deeply", 0)],
)  # fmt: skip
def test_a_bad_or_stale_signature_is_refused_and_nothing_stored(
    fake_stripe: FakeStripe, client: Client, how: str, offset: int
) -> None:
    event = fs.event("invoice.paid", {"id": "in_x", "object": "invoice"})
    payload = json.dumps(event)
    timestamp = fs.now() + offset
    secret = "whsec_someone_else" if how == "wrong secret" else fs.WEBHOOK_SECRET
    header = fs.signed(payload, secret=secret, timestamp=timestamp)
    if how == "tampered":
        payload = payload.replace("in_x", "in_y")
    if how == "not json":
        payload = "{not json"
        header = fs.signed(payload, timestamp=timestamp)
    if how == "nested too deeply":  # validly signed: json.loads raises RecursionError
        payload = "[" * 100_000 + "]" * 100_000
        header = fs.signed(payload, timestamp=timestamp)
    headers = {} if how == "no header" else {"Stripe-Signature": header}
    response = client.post(
        fs.WEBHOOK_PATH, data=payload, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_within_the_window_is_accepted_and_get_is_not_allowed(
    fake_stripe: FakeStripe, client: Client
) -> None:
    event = fs.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(client, event, timestamp=fs.now() - 290).status_code == 200
    assert client.get(fs.WEBHOOK_PATH).status_code == 405


def test_without_a_webhook_secret_everything_is_refused(
    fake_stripe: FakeStripe, settings: Any, client: Client
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = fs.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(client, event, secret="").status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_unknown_type_is_stored_acknowledged_and_ignored_once(
    fake_stripe: FakeStripe, send: Callable[[dict[str, Any]], Any]
) -> None:
    event = fs.event("customer.created", {"id": "cus_1", "object": "customer"})
    for _ in range(3):
        assert send(event).json() == {"received": True, "id": event["id"]}
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.type, stored.status) == (
        event["id"],
        "customer.created",
        "ignored",
    )
    assert stored.payload == event
    assert stored.processed_at is not None


# --- Each event type -------------------------------------------------------------------------


def test_checkout_completed_records_the_entrance_fee_and_activates(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    event = fs.session_completed(world.session, created=world.t0 + 5)
    send(event)
    assert _status(event) == ("processed", "")
    payment = Payment.objects.get()
    assert (payment.kind, payment.method, payment.amount, payment.stripe_id) == (
        "entrance", "stripe", 20000, world.session["id"],
    )  # fmt: skip
    assert payment.received_at == datetime.datetime.fromtimestamp(world.t0 + 5, tz=datetime.UTC)
    assert payment.reference == world.session["invoice"]
    assert _lines(payment) == [("provider_cash", 20000), ("reward_fund", -20000)]
    world.joiner.refresh_from_db()
    assert (world.joiner.status, world.joiner.role) == ("active", "member")
    world.row.refresh_from_db()
    assert (world.row.status, world.row.stripe_subscription_id, world.row.stripe_invoice_id) == (
        "completed", world.subscription, world.session["invoice"],
    )  # fmt: skip


def test_the_first_invoice_records_the_month_and_the_entrance_comes_from_the_session(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    # given: the first invoice (entrance + first month) is delivered before the session
    first = fs.event("invoice.paid", world.invoice(1, amount=21000))
    send(first)
    monthly = Payment.objects.get()
    assert (monthly.kind, monthly.amount, monthly.stripe_id) == (
        "monthly",
        1000,
        world.session["invoice"],
    )
    paid_at = first["data"]["object"]["status_transitions"]["paid_at"]
    assert monthly.received_at == datetime.datetime.fromtimestamp(paid_at, tz=datetime.UTC)
    assert _lines(monthly) == [("operations_fund", -1000), ("provider_cash", 1000)]
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"  # paid is paid
    # when: the session arrives
    send(fs.session_completed(world.session))
    # then: both, once each
    assert sorted(Payment.objects.values_list("kind", "amount")) == [
        ("entrance", 20000),
        ("monthly", 1000),
    ]
    send(first)  # a repeat changes nothing
    assert Payment.objects.count() == 2
    assert ledger.trial_balance(community=world.community) == 0


def test_a_later_invoice_is_a_monthly_payment_that_restores_a_lapsed_member(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    Membership.objects.filter(pk=world.joiner.pk).update(status=Status.LAPSED)
    send(fs.event("invoice.paid", world.invoice(2, amount=1000)))
    assert Payment.objects.get(stripe_id="in_test_month2").amount == 1000
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"


def test_a_failed_payment_gives_a_grace_period_then_the_member_lapses(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    failed_at = fs.now() - DAY
    send(
        fs.event(
            "invoice.payment_failed", world.invoice(3, amount=1000, paid=False), created=failed_at
        )
    )
    world.row.refresh_from_db()
    deadline = datetime.datetime.fromtimestamp(failed_at, tz=datetime.UTC) + datetime.timedelta(
        days=7
    )
    assert (world.row.subscription_status, world.row.grace_until) == ("past_due", deadline)
    # within the grace period: still active, and the job leaves them
    assert standing.lapse_due() == 0
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"
    # after it: lapsed (read-only), once, with an audit row
    later = deadline + datetime.timedelta(minutes=1)
    assert standing.lapse_due(now=later) == 1
    assert standing.lapse_due(now=later) == 0
    world.joiner.refresh_from_db()
    assert world.joiner.status == "lapsed"
    assert world.joiner.is_reader
    assert not world.joiner.is_writer
    lapses = CommunityAuditLog.objects.filter(membership=world.joiner, data__to="lapsed")
    assert [a.data["reason"] for a in lapses] == ["payment_failed"]
    # when: Stripe's retry succeeds: restored, the grace period over
    send(fs.event("invoice.paid", world.invoice(3, amount=1000, at=fs.now() - 60)))
    world.joiner.refresh_from_db()
    world.row.refresh_from_db()
    assert (world.joiner.status, world.row.subscription_status, world.row.grace_until) == (
        "active", "active", None,
    )  # fmt: skip
    # and a failure reported late for the paid invoice changes nothing
    send(fs.event("invoice.payment_failed", world.invoice(3, amount=1000, paid=False)))
    world.row.refresh_from_db()
    assert world.row.subscription_status == "active"


def test_with_no_grace_period_a_failed_payment_lapses_at_once(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    Community.objects.filter(pk=world.community.pk).update(grace_days=0)
    send(fs.session_completed(world.session, created=world.t0))
    send(fs.event("invoice.payment_failed", world.invoice(2, amount=1000, paid=False)))
    world.joiner.refresh_from_db()
    assert world.joiner.status == "lapsed"


def test_a_cancelled_subscription_runs_to_the_end_of_the_paid_month(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    period_end = fs.now() + 10 * DAY
    deleted = fs.subscription(
        subscription_id=world.subscription,
        metadata=world.metadata,
        period_end=period_end,
        ended_at=fs.now() - 60,
    )
    send(fs.event("customer.subscription.deleted", deleted))
    world.row.refresh_from_db()
    world.joiner.refresh_from_db()
    assert (world.row.subscription_status, world.joiner.status) == ("cancelled", "active")
    end = datetime.datetime.fromtimestamp(period_end, tz=datetime.UTC)
    assert standing.lapse_moment(world.row) == end
    assert standing.lapse_due(now=end - datetime.timedelta(seconds=1)) == 0
    assert standing.lapse_due(now=end) == 1
    world.joiner.refresh_from_db()
    assert world.joiner.status == "lapsed"
    # an organiser's offline payment afterwards is not undone by the job
    Membership.objects.filter(pk=world.joiner.pk).update(status=Status.ACTIVE)
    Payment.objects.create(
        community=world.community, membership=world.joiner, kind="monthly", method="cash",
        amount=1000, currency="CNY", received_at=end + datetime.timedelta(hours=1),
    )  # fmt: skip
    assert standing.lapse_due(now=end + datetime.timedelta(days=1)) == 0


def test_a_subscription_ended_unpaid_lapses_at_once(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    send(fs.session_completed(world.session, created=world.t0))
    send(
        fs.event(
            "invoice.payment_failed",
            world.invoice(2, amount=1000, paid=False),
            created=fs.now() - 20 * DAY,
        )
    )
    deleted = fs.subscription(
        subscription_id=world.subscription, metadata={}, period_end=fs.now() - 10 * DAY,
        ended_at=fs.now() - 5 * DAY,
    )  # fmt: skip
    send(fs.event("customer.subscription.deleted", deleted))  # found by its id
    world.joiner.refresh_from_db()
    assert world.joiner.status == "lapsed"


def test_a_refund_of_a_monthly_charge_is_reversed_with_stripe_s_refund_id(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    send(fs.event("invoice.paid", world.invoice(2, amount=1000)))
    # given: the charge does not list its refunds; the app asks Stripe
    world.fake.invoice_of["pi_month2"] = "in_test_month2"
    world.fake.refunds_of["ch_month2"] = [fs.refund("re_1", 400, fs.now() - DAY)]
    event = fs.event(
        "charge.refunded", fs.charge(charge_id="ch_month2", payment_intent="pi_month2", amount=1000)
    )
    send(event)
    assert _status(event) == ("processed", "")
    refund = Refund.objects.get()
    assert (refund.reason, refund.amount, refund.stripe_id, refund.payment.stripe_id) == (
        "refund", 400, "re_1", "in_test_month2",
    )  # fmt: skip
    lines = sorted(
        (e.account.kind, e.amount) for e in Entry.objects.filter(transaction__refund=refund)
    )
    assert lines == [("operations_fund", 400), ("provider_cash", -400)]
    asked = {
        (r.path, r.params.get("charge") or r.params.get("payment[payment_intent]"))
        for r in world.fake.requests
        if r.method == "GET"
    }
    assert asked == {("/v1/invoice_payments", "pi_month2"), ("/v1/refunds", "ch_month2")}
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"  # a monthly refund does not end the membership
    # a second refund later: the earlier one is not posted again
    world.fake.refunds_of["ch_month2"].append(fs.refund("re_2", 600, fs.now() - 60))
    send(
        fs.event(
            "charge.refunded",
            fs.charge(charge_id="ch_month2", payment_intent="pi_month2", amount=1000),
        )
    )
    assert sorted(Refund.objects.values_list("stripe_id", "amount")) == [
        ("re_1", 400),
        ("re_2", 600),
    ]


def test_refunding_the_first_charge_goes_to_the_month_first_then_ends_the_membership(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    world.fake.invoice_of["pi_first"] = world.session["invoice"]
    small = [fs.refund("re_small", 500, fs.now() - 2 * DAY)]
    send(
        fs.event(
            "charge.refunded",
            fs.charge(charge_id="ch_first", payment_intent="pi_first", amount=21000, refunds=small),
        )
    )
    assert list(Refund.objects.values_list("payment__kind", "amount", "stripe_id")) == [
        ("monthly", 500, "re_small")
    ]
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"
    rest = [*small, fs.refund("re_rest", 20500, fs.now() - DAY)]
    send(
        fs.event(
            "charge.refunded",
            fs.charge(charge_id="ch_first", payment_intent="pi_first", amount=21000, refunds=rest),
        )
    )
    assert sorted(Refund.objects.values_list("payment__kind", "amount", "stripe_id")) == [
        ("entrance", 20000, "re_rest:entrance"),
        ("monthly", 500, "re_rest"),
        ("monthly", 500, "re_small"),
    ]
    world.joiner.refresh_from_db()
    assert world.joiner.status == "left"
    balances = {a.kind: b for a, b in ledger.balances(community=world.community) if b}
    assert balances == {}


def test_a_lost_dispute_is_reversed_and_a_won_one_ignored(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    world.fake.invoice_of["pi_first"] = world.session["invoice"]
    won = fs.event(
        "charge.dispute.closed",
        fs.dispute(
            dispute_id="du_won",
            charge_id="ch_first",
            payment_intent="pi_first",
            amount=21000,
            status="won",
        ),
    )
    send(won)
    assert _status(won)[0] == "ignored"
    assert not Refund.objects.exists()
    lost = fs.event(
        "charge.dispute.closed",
        fs.dispute(
            dispute_id="du_lost", charge_id="ch_first", payment_intent="pi_first", amount=21000
        ),
    )
    send(lost)
    assert sorted(Refund.objects.values_list("reason", "amount", "stripe_id")) == [
        ("dispute", 1000, "du_lost"),
        ("dispute", 20000, "du_lost:entrance"),
    ]
    world.joiner.refresh_from_db()
    assert world.joiner.status == "left"


def test_a_refund_before_its_payment_waits_then_lands(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    world.fake.invoice_of["pi_first"] = world.session["invoice"]
    refunded = fs.event(
        "charge.refunded",
        fs.charge(
            charge_id="ch_first",
            payment_intent="pi_first",
            amount=21000,
            refunds=[fs.refund("re_1", 300, fs.now() - DAY)],
        ),
    )
    send(refunded)
    status, error = _status(refunded)
    assert status == "received"
    assert error.startswith("waiting: invoice")
    assert not Refund.objects.exists()
    send(fs.event("invoice.paid", world.invoice(1, amount=21000)))
    assert _status(refunded)[0] == "received"  # the entrance fee is not there yet either
    send(fs.session_completed(world.session, created=world.t0))
    assert _status(refunded) == ("processed", "")
    assert Refund.objects.get().amount == 300


def test_an_event_that_contradicts_our_checkout_fails_and_posts_nothing(
    world: World, send: Callable[[dict[str, Any]], Any], django_capture_on_commit_callbacks: Any
) -> None:
    wrong = dict(world.session, currency="usd")
    event = fs.session_completed(wrong)
    send(event)
    status, error = _status(event)
    assert status == "failed"
    assert "currency 'usd'" in error
    assert not Payment.objects.exists()
    assert not Transaction.objects.exists()
    world.row.refresh_from_db()
    assert world.row.status == "open"
    # staff fix it and process it again: still refused, still nothing half-written
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.event_retry(event=StripeEvent.objects.get(event_id=event["id"]))
    assert _status(event)[0] == "failed"
    assert not Payment.objects.exists()


def test_events_not_for_us_are_ignored(
    fake_stripe: FakeStripe, send: Callable[[dict[str, Any]], Any]
) -> None:
    foreign = {
        "id": "cs_other",
        "object": "checkout.session",
        "metadata": {},
        "payment_status": "paid",
    }
    invoice = fs.invoice(
        invoice_id="in_other",
        subscription="sub_other",
        metadata={},
        amount=10,
        created=fs.now(),
        paid_at=fs.now(),
    )
    for event in (fs.session_completed(foreign), fs.event("invoice.paid", invoice)):
        send(event)
        assert _status(event)[0] == "ignored"


def test_an_expired_session_is_marked(world: World, send: Callable[[dict[str, Any]], Any]) -> None:
    fresh = UserFactory()
    row = checkout.join_start(user=fresh, community=world.community, urls=_urls)
    session = world.fake.sessions[row.stripe_session_id]
    send(fs.event("checkout.session.expired", dict(session, status="expired")))
    row.refresh_from_db()
    assert row.status == "expired"


def test_the_sweep_retries_waiting_events_and_gives_up_after_three_days(
    world: World, send: Callable[[dict[str, Any]], Any], django_capture_on_commit_callbacks: Any
) -> None:
    refunded = fs.event(
        "charge.refunded",
        fs.charge(charge_id="ch_x", payment_intent="pi_unknown", amount=100, refunds=[]),
    )
    send(refunded)
    assert _status(refunded)[0] == "received"
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.events_sweep() == 1
    assert _status(refunded)[0] == "received"
    later = timezone.now() + datetime.timedelta(days=4)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.events_sweep(now=later)
    assert _status(refunded)[0] == "failed"


# --- Replays: three times each, shuffled ----------------------------------------------------


def _key(idempotency_key: str) -> str:
    kind, _sep, pk = idempotency_key.partition(":")
    model = {"payment": Payment, "refund": Refund}[kind]
    return f"{kind}:{model.objects.get(pk=int(pk)).stripe_id}"  # type: ignore[attr-defined]


def ledger_dump(community: Community) -> str:
    """Every Payment, Refund, Transaction and Entry of the community, without database ids or
    the times rows were written — what must not depend on delivery order."""

    def handle(m: Membership | None) -> str | None:
        return m.profile.handle if m is not None else None

    payments = [
        [
            p.kind,
            p.method,
            p.amount,
            p.currency,
            p.received_at.isoformat(),
            handle(p.membership),
            handle(p.recipient),
            p.answer_id,
            p.platform_fee,
            p.reference,
            p.stripe_id,
        ]
        for p in Payment.objects.filter(community=community).select_related(
            "membership__profile", "recipient__profile"
        )
    ]
    refunds = [
        [r.payment.stripe_id, r.reason, r.amount, r.received_at.isoformat(), r.note, r.stripe_id]
        for r in Refund.objects.filter(payment__community=community).select_related("payment")
    ]
    transactions = [
        [
            t.kind,
            t.description,
            t.occurred_at.isoformat(),
            _key(t.idempotency_key),
            t.payment.stripe_id if t.payment else None,
            t.refund.stripe_id if t.refund else None,
            _key(t.reverses.idempotency_key) if t.reverses else None,
            sorted(
                [e.account.kind, handle(e.account.membership), e.amount] for e in t.entries.all()
            ),
        ]
        for t in Transaction.objects.filter(community=community)
        .select_related("payment", "refund", "reverses")
        .prefetch_related("entries__account__membership__profile")
    ]
    return json.dumps(
        {
            "payments": sorted(payments),
            "refunds": sorted(refunds),
            "transactions": sorted(transactions),
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def _scenario(
    world: World, tip_row: CheckoutSession, tip_session: dict[str, Any]
) -> list[dict[str, Any]]:
    """A member's year in events: joining, months paid, a failure and its retry, refunds, a
    tip and its lost dispute, the entrance refunded, the subscription cancelled."""
    t0, now = world.t0, fs.now()
    fake = world.fake
    fake.invoice_of.update({"pi_first": world.session["invoice"], "pi_month2": "in_test_month2"})
    fake.refunds_of["ch_month2"] = [fs.refund("re_m2", 400, t0 + 31 * DAY)]
    return [
        fs.session_completed(world.session, created=t0 + 5),
        fs.event("invoice.paid", world.invoice(1, amount=21000)),
        fs.event("invoice.paid", world.invoice(2, amount=1000)),
        fs.event(
            "invoice.payment_failed",
            world.invoice(3, amount=1000, paid=False),
            created=t0 + 60 * DAY + 100,
        ),
        fs.event("invoice.paid", world.invoice(3, amount=1000, at=t0 + 62 * DAY)),
        fs.event(
            "charge.refunded",
            fs.charge(charge_id="ch_month2", payment_intent="pi_month2", amount=1000),
        ),
        fs.session_completed(tip_session, created=t0 + 40 * DAY),
        fs.event(
            "charge.dispute.closed",
            fs.dispute(
                dispute_id="du_tip",
                charge_id="ch_tip",
                payment_intent=str(tip_session["payment_intent"]),
                amount=tip_row.tip_amount,
            ),
        ),
        fs.event(
            "charge.refunded",
            fs.charge(
                charge_id="ch_first",
                payment_intent="pi_first",
                amount=21000,
                refunds=[fs.refund("re_first", 21000, now - 3 * DAY)],
            ),
        ),
        fs.event(
            "customer.subscription.deleted",
            fs.subscription(
                subscription_id=world.subscription,
                metadata=world.metadata,
                period_end=now + 20 * DAY,
                ended_at=now - DAY,
            ),
        ),
        fs.event("customer.created", {"id": "cus_x", "object": "customer"}),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_every_webhook_three_times_shuffled_leaves_the_ledger_identical(
    world: World, member: Membership, client: Client, django_capture_on_commit_callbacks: Any,
    seed: int,
) -> None:  # fmt: skip
    # given: the joiner also tips an answer of another member
    [question] = bulk_questions(world.community, [world.joiner, member], 1, answers=1)
    answer = Answer.objects.get(question=question)
    Membership.objects.filter(pk=world.joiner.pk).update(status=Status.ACTIVE)
    world.joiner.refresh_from_db()
    tip_row = checkout.tip_start(tipper=world.joiner, answer=answer, amount=500, urls=_urls)
    Membership.objects.filter(pk=world.joiner.pk).update(status=Status.PENDING)
    tip_session = world.fake.pay(tip_row.stripe_session_id)
    events = _scenario(world, tip_row, tip_session)

    def run(deliveries: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
        for event in deliveries:
            with django_capture_on_commit_callbacks(execute=True):
                assert deliver(client, event).status_code == 200
        statuses = sorted(StripeEvent.objects.values_list("status", flat=True))
        status = Membership.objects.get(pk=world.joiner.pk).status
        return ledger_dump(world.community), status, statuses

    # the reference: each event once, in the order Stripe sent them; then undone
    with transaction.atomic():
        expected = run(events)
        transaction.set_rollback(True)
    assert not Payment.objects.exists()

    # when: every event three times, shuffled
    deliveries = events * 3
    random.Random(seed).shuffle(deliveries)
    got = run(deliveries)

    # then: byte-identical, and every event settled
    assert got[0] == expected[0]
    assert got[1:] == expected[1:] == ("left", ["ignored"] + ["processed"] * 10)
    dump = json.loads(got[0])
    assert len(dump["payments"]) == 5
    assert len(dump["refunds"]) == 4
    assert ledger.trial_balance(community=world.community) == 0


# --- Concurrency ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_of_one_event_post_once(fake_stripe: FakeStripe) -> None:
    community = make_community(slug="race")
    add_member(community)
    user = UserFactory()
    row = checkout.join_start(user=user, community=community, urls=_urls)
    event = fs.session_completed(fake_stripe.pay(row.stripe_session_id))
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def deliver_once() -> None:
        try:
            barrier.wait(timeout=10)
            codes.append(deliver(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert codes == [200, 200]
    assert StripeEvent.objects.get().status == "processed"
    assert Payment.objects.filter(community=community).count() == 1
    assert Transaction.objects.filter(community=community).count() == 1
    assert Entry.objects.filter(transaction__community=community).count() == 2
    assert Membership.objects.get(user=user, community=community).status == "active"


# --- The staff admin ----------------------------------------------------------------------------


def test_staff_see_money_read_only_and_can_process_a_failed_event_again(
    world: World, send: Callable[[dict[str, Any]], Any], client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from django.contrib.admin import helpers

    send(fs.session_completed(world.session, created=world.t0))
    first = fs.event("invoice.paid", dict(world.invoice(1, amount=21000), currency="usd"))
    send(first)
    assert _status(first)[0] == "failed"
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    payment = Payment.objects.get()
    posted = Transaction.objects.get(payment=payment)
    for url in (
        "/admin/rewards/stripeevent/", "/admin/rewards/payment/", "/admin/rewards/refund/",
        "/admin/rewards/transaction/", "/admin/rewards/entry/", "/admin/rewards/account/",
        "/admin/rewards/checkoutsession/", f"/admin/rewards/transaction/{posted.pk}/change/",
        f"/admin/rewards/payment/{payment.pk}/change/",
    ):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
    detail = client.get(f"/admin/rewards/transaction/{posted.pk}/change/").content.decode()
    assert "reward_fund" in detail or "Reward fund" in detail  # the entries, inline
    assert client.get("/admin/rewards/payment/add/").status_code == 403
    assert client.get("/admin/rewards/stripeevent/add/").status_code == 403
    # the failed event is processed again (after fixing the cause — here: the currency)
    stored = StripeEvent.objects.get(event_id=first["id"])
    StripeEvent.objects.filter(pk=stored.pk).update(
        payload=dict(first, data={"object": world.invoice(1, amount=21000)})
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/rewards/stripeevent/",
            {"action": "process_again", helpers.ACTION_CHECKBOX_NAME: [stored.pk]},
        )
    assert response.status_code == 302
    assert _status(first) == ("processed", "")
    assert Payment.objects.filter(kind="monthly").count() == 1


# Storing, reading the event before locking it (Stripe is asked with no lock held), locking
# it, the member, then the checkout (rewards.locks), the standing, the payment, its
# transaction and entries, the audit row: the same at any number of earlier payments.
QUERY_BUDGET = 35


@pytest.mark.parametrize("months", [2, 12])
def test_processing_an_invoice_takes_a_fixed_number_of_queries(
    world: World, send: Callable[[dict[str, Any]], Any], client: Client,
    django_capture_on_commit_callbacks: Any, django_assert_max_num_queries: Any, months: int,
) -> None:  # fmt: skip
    send(fs.session_completed(world.session, created=world.t0))
    for n in range(1, months):
        send(
            fs.event(
                "invoice.paid", world.invoice(n, amount=21000 if n == 1 else 1000, at=world.t0 + n)
            )
        )
    with (
        django_assert_max_num_queries(QUERY_BUDGET),
        django_capture_on_commit_callbacks(execute=True),
    ):
        deliver(
            client,
            fs.event("invoice.paid", world.invoice(months, amount=1000, at=world.t0 + months)),
        )
    assert Payment.objects.count() == months + 1


# --- Money going back from more than one event; subscriptions stopped -----------------------


def _paid_first_invoice(world: World, send: Callable[[dict[str, Any]], Any]) -> None:
    send(fs.session_completed(world.session, created=world.t0))
    send(fs.event("invoice.paid", world.invoice(1, amount=21000)))
    world.fake.invoice_of["pi_first"] = world.session["invoice"]


def _refunded(refunds: list[dict[str, Any]]) -> dict[str, Any]:
    return fs.event(
        "charge.refunded",
        fs.charge(charge_id="ch_first", payment_intent="pi_first", amount=21000, refunds=refunds),
    )


def _lost(amount: int) -> dict[str, Any]:
    return fs.event(
        "charge.dispute.closed",
        fs.dispute(
            dispute_id="du_rest", charge_id="ch_first", payment_intent="pi_first", amount=amount
        ),
    )


@pytest.mark.parametrize("dispute_first", [False, True])
def test_a_refund_and_a_lost_dispute_of_one_charge_take_back_all_of_it(
    world: World, send: Callable[[dict[str, Any]], Any], dispute_first: bool
) -> None:
    # given: the first invoice paid the entrance fee (200.00) and the first month (10.00)
    _paid_first_invoice(world, send)
    refund = _refunded([fs.refund("re_month", 1000, fs.now() - DAY)])
    lost = _lost(20000)
    # when: 10.00 is refunded and a dispute of the other 200.00 is lost, in either order
    for event in [lost, refund] if dispute_first else [refund, lost]:
        send(event)
        assert _status(event) == ("processed", "")
    # then: all 210.00 went back: nothing is left in the funds, the member has left
    assert sum(Refund.objects.values_list("amount", flat=True)) == 21000
    balances = {a.kind: b for a, b in ledger.balances(community=world.community) if b}
    assert balances == {}
    world.joiner.refresh_from_db()
    assert world.joiner.status == "left"
    # and the subscription was stopped at Stripe, once, keyed by our row
    assert world.fake.subscription_changes == {world.subscription: "cancelled"}
    stops = [r for r in world.fake.requests if r.method == "DELETE"]
    assert [(r.path, r.idempotency_key) for r in stops] == [
        (f"/v1/subscriptions/{world.subscription}", f"cancel:{world.row.pk}")
    ]


def test_a_pending_refund_is_posted_when_stripe_says_it_succeeded(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    pending = {**fs.refund("re_slow", 500, fs.now() - DAY), "status": "pending"}
    send(_refunded([pending]))
    assert not Refund.objects.exists()
    # when: Stripe says the refund went through
    succeeded = {**pending, "status": "succeeded"}
    world.fake.refunds_of["ch_first"] = [succeeded]
    updated = fs.event(
        "charge.refund.updated", {**succeeded, "charge": "ch_first", "payment_intent": "pi_first"}
    )
    send(updated)
    # then: it is posted, once
    assert _status(updated) == ("processed", "")
    assert list(Refund.objects.values_list("payment__kind", "amount", "stripe_id")) == [
        ("monthly", 500, "re_slow")
    ]
    send(updated)
    assert Refund.objects.count() == 1
    # a refund that failed is not money back
    failed = fs.event(
        "charge.refund.updated",
        {**fs.refund("re_no", 300, fs.now()), "status": "failed", "charge": "ch_first"},
    )
    send(failed)
    assert _status(failed)[0] == "ignored"
    assert Refund.objects.count() == 1


def test_a_whole_month_refunded_lapses_the_member_and_stops_the_subscription(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    send(fs.event("invoice.paid", world.invoice(2, amount=1000)))
    world.fake.invoice_of["pi_month2"] = "in_test_month2"
    month2 = fs.charge(charge_id="ch_month2", payment_intent="pi_month2", amount=1000)
    # a part of it back: still a member
    world.fake.refunds_of["ch_month2"] = [fs.refund("re_part", 400, fs.now() - DAY)]
    send(fs.event("charge.refunded", month2))
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"
    assert world.fake.subscription_changes == {}
    # the rest of it back: lapsed, and Stripe stops charging
    world.fake.refunds_of["ch_month2"].append(fs.refund("re_rest", 600, fs.now() - 60))
    send(fs.event("charge.refunded", month2))
    world.joiner.refresh_from_db()
    assert world.joiner.status == "lapsed"
    assert world.fake.subscription_changes == {world.subscription: "cancelled"}
    assert CommunityAuditLog.objects.filter(
        membership=world.joiner, data__to="lapsed", data__reason="monthly_refund"
    ).exists()


def test_a_member_who_resumes_has_the_failed_subscription_stopped(
    world: World,
    send: Callable[[dict[str, Any]], Any],
    client: Client,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given: a member whose payment failed past the grace period, now lapsed
    _paid_first_invoice(world, send)
    failed = world.invoice(2, amount=1000, paid=False)
    send(fs.event("invoice.payment_failed", failed, created=world.t0 + 30 * DAY + 100))
    standing.lapse_due()
    world.joiner.refresh_from_db()
    assert world.joiner.status == "lapsed"
    # when: they pay again through a new Checkout
    client.force_login(world.joiner.user)
    client.post("/c/circle/join/")
    new_row = CheckoutSession.objects.exclude(pk=world.row.pk).get()
    new_session = world.fake.pay(new_row.stripe_session_id)
    send(fs.session_completed(new_session))
    # then: the old subscription is stopped at Stripe, the new one is not
    assert world.fake.subscription_changes == {world.subscription: "cancelled"}
    world.row.refresh_from_db()
    new_row.refresh_from_db()
    assert world.row.cancel_requested_at is not None
    assert new_row.cancel_requested_at is None


def test_a_member_cancels_at_the_end_of_the_month_paid_for(
    world: World,
    send: Callable[[dict[str, Any]], Any],
    client: Client,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _paid_first_invoice(world, send)
    client.force_login(world.joiner.user)
    page = client.get("/c/circle/fund/")
    assert b"Cancel my subscription" in page.content
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/c/circle/fund/subscription/cancel/", follow=True)
    # then: Stripe is asked to stop at the period's end; still a member meanwhile
    assert world.fake.subscription_changes == {world.subscription: "cancel_at_period_end"}
    [asked] = [r for r in world.fake.requests if r.path.startswith("/v1/subscriptions/")]
    assert (asked.method, asked.params, asked.idempotency_key) == (
        "POST",
        {"cancel_at_period_end": "true"},
        f"cancel-at-period-end:{world.row.pk}",
    )
    assert b"you stay a member until the end of the month you paid for" in response.content
    assert b"Cancel my subscription" not in response.content
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"
    # asking again changes nothing and calls Stripe no more
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/c/circle/fund/subscription/cancel/")
    assert len([r for r in world.fake.requests if r.path.startswith("/v1/subscriptions/")]) == 1


def test_a_member_an_organiser_removes_is_not_charged_again(
    world: World,
    send: Callable[[dict[str, Any]], Any],
    api: Any,
    organiser: Membership,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given: a paying Stripe member
    _paid_first_invoice(world, send)
    # when: an organiser ends the membership by hand
    api.force_authenticate(organiser.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/communities/circle/members/{world.joiner.pk}/",
            {"status": "left"},
            format="json",
        )
    assert response.status_code == 200, response.content
    # then: the change itself stops the subscription at Stripe at once (no beat job), once
    assert world.fake.subscription_changes == {world.subscription: "cancelled"}
    [asked] = [r for r in world.fake.requests if r.path.startswith("/v1/subscriptions/")]
    assert (asked.method, asked.idempotency_key) == ("DELETE", f"cancel:{world.row.pk}")
    # setting "left" again changes nothing and calls Stripe no more
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(
            f"/api/v1/communities/circle/members/{world.joiner.pk}/",
            {"status": "left"},
            format="json",
        )
    assert len([r for r in world.fake.requests if r.path.startswith("/v1/subscriptions/")]) == 1
    # the month already paid stays in the fund: nothing was reversed
    assert Payment.objects.filter(membership=world.joiner).count() == 2
    assert not Transaction.objects.filter(reverses__isnull=False).exists()
    assert not Refund.objects.exists()


def test_cancelling_without_a_subscription_is_refused(
    api: Any, member: Membership, fake_stripe: FakeStripe
) -> None:
    api.force_authenticate(member.user)
    response = api.post("/api/v1/communities/circle/subscription/cancel/")
    assert response.status_code == 400
    assert list(response.json()) == ["subscription"]
    assert not fake_stripe.requests


def test_events_of_another_deployment_on_the_same_stripe_account_are_ignored(
    world: World, send: Callable[[dict[str, Any]], Any], settings: Any
) -> None:
    # given: this deployment is "prod"; staging shares the Stripe account, and its row ids
    # are the same small numbers as ours
    settings.STRIPE_DEPLOYMENT_NAME = "prod"
    staging = fs.session_completed(
        {**world.session, "metadata": {**world.metadata, "deployment": "staging"}}
    )
    unmarked = fs.session_completed(world.session)  # made before "prod" was named
    # when / then: neither is acted on
    send(staging)
    send(unmarked)
    assert (_status(staging)[0], _status(unmarked)[0]) == ("ignored", "ignored")
    assert not Payment.objects.exists()
    # ours is
    mine = fs.session_completed(
        {**world.session, "metadata": {**world.metadata, "deployment": "prod"}}
    )
    send(mine)
    assert _status(mine)[0] == "processed"
    assert Payment.objects.filter(membership=world.joiner).exists()


def _setup_requests(fake: FakeStripe) -> list[Any]:
    return [r for r in fake.created() if r.params.get("mode") == "setup"]


def test_a_member_whose_payment_failed_changes_how_they_pay(
    world: World, send: Callable[[dict[str, Any]], Any], client: Client
) -> None:
    # given: the second month's payment failed
    _paid_first_invoice(world, send)
    send(fs.event("invoice.payment_failed", world.invoice(2, amount=1000, paid=False)))
    client.force_login(world.joiner.user)
    page = client.get("/c/circle/fund/")
    assert b"change how you pay here" in page.content
    # the page's form may go on to Stripe (the CSP's form-action covers the redirect)
    assert "form-action 'self' https://checkout.stripe.com" in page["Content-Security-Policy"]
    # when: they ask to change how they pay
    response = client.post("/c/circle/fund/subscription/payment-method/")
    # then: a Stripe Checkout page in setup mode for their customer, charging nothing
    [asked] = _setup_requests(world.fake)
    [session] = [s for s in world.fake.sessions.values() if s["mode"] == "setup"]
    assert (response.status_code, response["Location"]) == (303, session["url"])
    assert asked.params["customer"] == world.session["customer"]
    assert asked.params["currency"] == "cny"
    assert asked.params["success_url"] == "http://testserver/c/circle/fund/?payment-method=saved"
    assert asked.params["cancel_url"] == "http://testserver/c/circle/fund/"
    assert asked.params["metadata[purpose]"] == "payment_method"
    assert asked.params["setup_intent_data[metadata][checkout]"] == str(world.row.pk)
    assert not any(k.startswith("line_items") for k in asked.params)
    assert asked.idempotency_key is not None
    assert asked.idempotency_key.startswith(f"payment-method:{world.row.pk}:")
    # when: they save a new card on Stripe's page and Stripe reports it, twice
    world.fake.pay(session["id"])
    send(fs.session_completed(session))
    send(fs.session_completed(session))
    # then: the subscription is charged with the new card from now on
    [intent] = world.fake.setup_intents.values()
    assert world.fake.subscription_methods == {world.subscription: intent["payment_method"]}
    path = f"/v1/subscriptions/{world.subscription}"
    updates = [r for r in world.fake.requests if r.path == path]
    assert {r.idempotency_key for r in updates} == {f"payment-method:{intent['id']}"}
    # and nothing about the membership, the payments or the subscription's life changed
    world.joiner.refresh_from_db()
    assert world.joiner.status == "active"
    assert world.fake.subscription_changes == {}
    assert Payment.objects.filter(membership=world.joiner).count() == 2
    # back from Stripe, the member is told
    back = client.get("/c/circle/fund/?payment-method=saved")
    assert b"your subscription is paid this way from now on" in back.content


def test_a_setup_for_someone_else_s_customer_is_refused(
    world: World, send: Callable[[dict[str, Any]], Any]
) -> None:
    _paid_first_invoice(world, send)
    forged = {
        "id": "cs_forged",
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "customer": "cus_someone_else",
        "setup_intent": "seti_x",
        "metadata": {**world.metadata, "purpose": "payment_method"},
    }
    event = fs.session_completed(forged)
    send(event)
    assert _status(event)[0] == "failed"
    assert world.fake.subscription_methods == {}


def test_the_api_gives_the_page_to_change_how_one_pays(
    world: World, send: Callable[[dict[str, Any]], Any], api: Any
) -> None:
    _paid_first_invoice(world, send)
    api.force_authenticate(world.joiner.user)
    response = api.post("/api/v1/communities/circle/subscription/payment-method/")
    assert response.status_code == 200, response.content
    [session] = [s for s in world.fake.sessions.values() if s["mode"] == "setup"]
    assert response.json() == {"url": session["url"]}


def test_changing_how_one_pays_without_a_subscription_is_refused(
    api: Any, client: Client, member: Membership, fake_stripe: FakeStripe
) -> None:
    api.force_authenticate(member.user)
    response = api.post("/api/v1/communities/circle/subscription/payment-method/")
    assert response.status_code == 400
    assert list(response.json()) == ["subscription"]
    client.force_login(member.user)
    page = client.post("/c/circle/fund/subscription/payment-method/", follow=True)
    assert page.redirect_chain == [("/c/circle/fund/", 302)]
    assert b"You have no monthly subscription to change." in page.content
    assert not fake_stripe.requests


def test_someone_outside_the_community_may_not_change_how_a_member_pays(
    world: World, send: Callable[[dict[str, Any]], Any], api: Any, client: Client
) -> None:
    _paid_first_invoice(world, send)
    outsider = add_member(make_community(slug="elsewhere"), profile={"handle": "outsider"})
    api.force_authenticate(outsider.user)
    response = api.post("/api/v1/communities/circle/subscription/payment-method/")
    assert response.status_code in (403, 404)
    client.force_login(outsider.user)
    page = client.post("/c/circle/fund/subscription/payment-method/")
    assert page.status_code in (403, 404)
    assert not _setup_requests(world.fake)


def test_after_cancelling_there_is_no_card_to_change_and_stripe_down_is_a_message(
    world: World,
    send: Callable[[dict[str, Any]], Any],
    client: Client,
    api: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _paid_first_invoice(world, send)
    client.force_login(world.joiner.user)
    # Stripe refusing: a message on the fund page, 503 from the API, never a 500
    world.fake.fail_with = (500, {"type": "api_error", "message": "boom"})
    page = client.post("/c/circle/fund/subscription/payment-method/", follow=True)
    assert page.redirect_chain == [("/c/circle/fund/", 302)]
    assert b"Stripe could not open the page just now." in page.content
    api.force_authenticate(world.joiner.user)
    assert api.post("/api/v1/communities/circle/subscription/payment-method/").status_code == 503
    world.fake.fail_with = None
    # once cancelled, the button is gone and asking is refused
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/c/circle/fund/subscription/cancel/")
    assert b"Change how I pay" not in client.get("/c/circle/fund/").content
    response = api.post("/api/v1/communities/circle/subscription/payment-method/")
    assert response.status_code == 400


def test_database_trouble_leaves_the_event_for_the_sweep(
    world: World,
    send: Callable[[dict[str, Any]], Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from django.db import OperationalError

    from rewards.stripe import events as stripe_events

    real = stripe_events.handle

    def deadlocked(event: Any, *args: Any) -> bool:
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(stripe_events, "handle", deadlocked)
    event = fs.session_completed(world.session, created=world.t0)
    send(event)
    status, error = _status(event)
    assert (status, error.startswith("retrying: OperationalError")) == ("received", True)
    assert not Payment.objects.exists()
    # when: the database is fine again and the sweep comes round
    monkeypatch.setattr(stripe_events, "handle", real)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.events_sweep(now=timezone.now() + datetime.timedelta(minutes=10))
    assert _status(event) == ("processed", "")
    assert Payment.objects.get().amount == 20000


def test_the_tip_is_split_by_the_fee_the_tipper_was_shown(
    fake_stripe: FakeStripe,
    community: Community,
    send: Callable[[dict[str, Any]], Any],
) -> None:
    tipper = add_member(community, profile={"handle": "tipper"})
    author = add_member(community, profile={"handle": "author"})
    bulk_questions(community, [tipper, author], 1, answers=1)
    answer = Answer.objects.get()
    row = checkout.tip_start(tipper=tipper, answer=answer, amount=1000, urls=_urls)
    # the organiser raises the platform fee before Stripe's notice is processed
    Community.objects.filter(pk=community.pk).update(tip_fee_percent=50)
    send(fs.session_completed(fake_stripe.pay(row.stripe_session_id)))
    payment = Payment.objects.get(kind="tip")
    assert (payment.amount, payment.platform_fee) == (1000, 0)
    assert ledger.member_balance(membership=author) == 1000


def test_a_retry_after_stripe_failed_sends_the_very_same_request(
    fake_stripe: FakeStripe, community: Community
) -> None:
    from rewards.stripe import gateway as stripe_gateway

    user = UserFactory()
    fake_stripe.fail_with = (500, {"type": "api_error", "message": "down"})
    with pytest.raises(stripe_gateway.StripeUnavailableError):
        checkout.join_start(user=user, community=community, urls=_urls)
    fake_stripe.fail_with = None

    def other_urls(row: CheckoutSession) -> tuple[str, str]:
        return ("http://elsewhere/done/", "http://elsewhere/cancelled/")

    row = checkout.join_start(user=user, community=community, urls=other_urls)
    first, *_, last = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]
    assert first.idempotency_key == last.idempotency_key == f"checkout:{row.pk}"
    assert first.params == last.params
    assert row.status == "open"
    # a row whose session was never made is not retried once Stripe would refuse its expiry
    CheckoutSession.objects.filter(pk=row.pk).update(stripe_session_id="", status="created")
    CheckoutSession.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=26)
    )
    again = checkout.join_start(user=user, community=community, urls=_urls)
    assert again.pk != row.pk
