"""The money locks (rewards.locks) on real PostgreSQL, with threads on separate connections:
a webhook and a member cancelling at the same moment take the member's row first, both of
them, so neither deadlocks; and no request reaches Stripe while a money row is locked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Model
from django.test import Client

from members.models import Membership
from rewards import checkout, locks, subscriptions, webhooks
from rewards.models import CheckoutSession, Payment, Refund, StripeEvent
from rewards.stripe import events as stripe_events
from rewards.stripe import gateway as stripe_gateway
from tests.factories import UserFactory, make_community
from tests.rewards import fake_stripe as fs
from tests.rewards.fake_stripe import FakeStripe, Recorded, deliver

pytestmark = pytest.mark.django_db(transaction=True)

DAY = 86400
WAIT = 30  # seconds: a bound on every wait, so a broken run fails instead of hanging


def _urls(row: CheckoutSession) -> tuple[str, str]:
    return ("http://testserver/done/", "http://testserver/cancelled/")


@dataclass
class Joined:
    member: Membership
    row: CheckoutSession
    session: dict[str, Any]
    t0: int

    @property
    def subscription(self) -> str:
        return str(self.session["subscription"])

    def invoice(self, n: int, amount: int) -> dict[str, Any]:
        created = self.t0 + (n - 1) * 30 * DAY
        return fs.invoice(
            invoice_id=self.session["invoice"] if n == 1 else f"in_test_month{n}",
            subscription=self.subscription,
            metadata=dict(self.session["metadata"]),
            amount=amount,
            created=created,
            paid_at=created + 60,
            first=n == 1,
        )


def _joined(fake: FakeStripe) -> Joined:
    """A member who joined through Stripe Checkout: the session and the first invoice (entrance
    fee and first month) processed, the subscription live."""
    community = make_community(slug="locks")
    row = checkout.join_start(user=UserFactory(), community=community, urls=_urls)
    session = fake.pay(row.stripe_session_id)
    joined = Joined(row.membership, row, session, fs.now() - 40 * DAY)
    assert deliver(Client(), fs.session_completed(session, created=joined.t0)).status_code == 200
    assert deliver(Client(), fs.event("invoice.paid", joined.invoice(1, 21000))).status_code == 200
    joined.member.refresh_from_db()
    assert joined.member.status == Membership.Status.ACTIVE
    fake.invoice_of["pi_first"] = str(session["invoice"])  # the first charge's payment intent
    return joined


def _stored(event: dict[str, Any]) -> StripeEvent:
    """An event as the webhook stores it (its processing is run by the test)."""
    return StripeEvent.objects.create(event_id=event["id"], type=event["type"], payload=event)


def _free(model: type[Model], **lookup: Any) -> bool:
    """Whether no other transaction holds a lock on these rows, asked from this thread's own
    connection (``FOR UPDATE NOWAIT``, let go at once)."""
    try:
        with transaction.atomic():
            list(model._default_manager.select_for_update(nowait=True).filter(**lookup))
    except OperationalError:  # "could not obtain lock on row"
        return False
    return True


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _waiting_for_row_of(pid: int) -> list[str]:
    """Once the backend ``pid`` waits for a lock, the tables of the rows it queues for. A
    blocked backend cannot signal, so PostgreSQL is asked until it says so (bounded, no
    sleeping). A backend waiting for a row locked by another holds — or, behind another
    waiter, waits for — a "tuple" lock on that row's table."""
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            found = cursor.fetchone()
            if found is not None and found[0] == "Lock":
                cursor.execute(
                    "SELECT relation::regclass::text FROM pg_locks"
                    " WHERE pid = %s AND locktype = 'tuple'",
                    [pid],
                )
                return sorted(str(table) for (table,) in cursor.fetchall())
    raise AssertionError(f"backend {pid} never waited for a lock")


class Worker(threading.Thread):
    """Runs ``work`` on its own database connection (closed at the end), keeping its result
    or error; ``pid`` is its backend, known once ``ready`` is set."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.ready = threading.Event()
        self.pid = 0
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.pid = _backend_pid()
            self.ready.set()
            self.result = self.work()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.ready.set()
            connection.close()


def _start(work: Callable[[], object]) -> Worker:
    worker = Worker(work)
    worker.start()
    assert worker.ready.wait(WAIT)
    return worker


# --- (a) A webhook and a member cancelling at the same moment ---------------------------------


def _month_paid(joined: Joined, fake: FakeStripe) -> dict[str, Any]:
    return fs.event("invoice.paid", joined.invoice(2, 1000))


def _part_refunded(joined: Joined, fake: FakeStripe) -> dict[str, Any]:
    """Part of the first charge refunded (it goes to the month first; nothing stops)."""
    refunds = [fs.refund("re_part", 500, fs.now() - DAY)]
    return fs.event(
        "charge.refunded",
        fs.charge(charge_id="ch_first", payment_intent="pi_first", amount=21000, refunds=refunds),
    )


@pytest.mark.parametrize("cancel_first", [True, False], ids=["cancel-first", "webhook-first"])
@pytest.mark.parametrize("make_event", [_month_paid, _part_refunded], ids=["paid", "refunded"])
def test_a_webhook_and_a_cancellation_at_once_both_wait_for_the_member_and_both_finish(
    fake_stripe: FakeStripe,
    make_event: Callable[[Joined, FakeStripe], dict[str, Any]],
    cancel_first: bool,
) -> None:
    # given: a paying member; an event about their money, stored and about to be processed
    joined = _joined(fake_stripe)
    event = _stored(make_event(joined, fake_stripe))
    member_pk, checkout_pk = joined.member.pk, joined.row.pk
    held, release = threading.Event(), threading.Event()

    def hold_the_member() -> None:
        with transaction.atomic():
            locks.membership(member_pk)
            held.set()
            assert release.wait(WAIT)

    def cancel() -> object:
        return subscriptions.subscription_cancel(membership=Membership.objects.get(pk=member_pk))

    def process() -> object:
        return webhooks.event_process(event_id=event.pk)

    # when: the member's row is held while both paths start, one after the other
    holder = _start(hold_the_member)
    workers: list[Worker] = []
    try:
        assert held.wait(WAIT)
        waiting_for = []
        for work in (cancel, process) if cancel_first else (process, cancel):
            workers.append(_start(work))
            waiting_for.append(_waiting_for_row_of(workers[-1].pid))

        # then: both queue for the member's row, the first in the order of rewards.locks; the
        # webhook holds its event (above the member in that order) but no checkout and no
        # payment (below it) — taking the checkout first is what deadlocked with a cancel
        assert waiting_for == [["members_membership"], ["members_membership"]]
        assert _free(CheckoutSession, membership_id=member_pk)
        assert _free(Payment, membership_id=member_pk)
        assert not _free(StripeEvent, pk=event.pk)
    finally:
        # and when the member's row is let go, both finish: no "deadlock detected"
        release.set()
        for worker in (holder, *workers):
            worker.join(WAIT)
    canceller, webhook = workers if cancel_first else workers[::-1]
    assert not any(worker.is_alive() for worker in (holder, *workers))
    assert (holder.error, canceller.error, webhook.error) == (None, None, None)
    assert webhook.result == "processed"
    assert isinstance(canceller.result, CheckoutSession)
    event.refresh_from_db()
    assert (event.status, event.error) == ("processed", "")
    row = CheckoutSession.objects.get(pk=checkout_pk)
    assert (row.cancel_requested_at is not None, row.cancel_at_period_end) == (True, True)
    assert fake_stripe.subscription_changes == {joined.subscription: "cancel_at_period_end"}
    if make_event is _month_paid:
        assert Payment.objects.filter(stripe_id="in_test_month2", amount=1000).exists()
    else:
        assert list(Refund.objects.values_list("stripe_id", "amount")) == [("re_part", 500)]
    assert Membership.objects.get(pk=member_pk).status == Membership.Status.ACTIVE


# --- (b) No Stripe request while a money row is locked ----------------------------------------

MONEY_ROWS: tuple[type[Model], ...] = (StripeEvent, Membership, CheckoutSession, Payment)


def _watch(fake: FakeStripe) -> list[tuple[str, list[str]]]:
    """At every request the fake Stripe receives — in its own thread, while the app waits for
    the answer — note which kinds of money row some transaction holds locked."""
    seen: list[tuple[str, list[str]]] = []

    def check(recorded: Recorded) -> None:
        try:
            held = [m.__name__ for m in MONEY_ROWS if not _free(m)]
            seen.append((f"{recorded.method} {recorded.path}", held))
        finally:
            connection.close()

    fake.on_request = check
    return seen


def test_no_stripe_request_is_made_while_a_money_row_is_locked(fake_stripe: FakeStripe) -> None:
    joined = _joined(fake_stripe)
    seen = _watch(fake_stripe)
    client = Client()
    # when: a refund the charge does not list (the app asks Stripe for the invoice and the
    # refunds), a pending refund that succeeded (asked again) …
    fake_stripe.refunds_of["ch_first"] = [fs.refund("re_1", 300, fs.now() - DAY)]
    unlisted = fs.charge(charge_id="ch_first", payment_intent="pi_first", amount=21000)
    deliver(client, fs.event("charge.refunded", unlisted))
    fake_stripe.refunds_of["ch_first"].append(fs.refund("re_2", 200, fs.now() - 60))
    succeeded = dict(
        fs.refund("re_2", 200, fs.now() - 60), charge="ch_first", payment_intent="pi_first"
    )
    deliver(client, fs.event("charge.refund.updated", succeeded))
    # … the member saves a new card for their subscription (the app tells Stripe to use it) …
    url = subscriptions.payment_method_update_url(
        membership=joined.member, success_url="http://testserver/ok/", cancel_url="http://x/"
    )
    setup = fake_stripe.pay(url.rsplit("/", 1)[-1])
    deliver(client, fs.session_completed(setup))
    # … and then cancels it
    subscriptions.subscription_cancel(membership=joined.member)

    # then: Stripe was asked and told all of it …
    assert sorted(Refund.objects.values_list("stripe_id", "amount")) == [
        ("re_1", 300),
        ("re_2", 200),
    ]
    [intent] = fake_stripe.setup_intents.values()
    assert fake_stripe.subscription_methods == {joined.subscription: intent["payment_method"]}
    assert fake_stripe.subscription_changes == {joined.subscription: "cancel_at_period_end"}
    assert StripeEvent.objects.exclude(status="processed").count() == 0
    asked = [request for request, _held in seen]
    assert asked.count("GET /v1/invoice_payments") == 2
    assert asked.count("GET /v1/refunds") == 2
    assert f"GET /v1/setup_intents/{intent['id']}" in asked
    assert asked.count(f"POST /v1/subscriptions/{joined.subscription}") == 2
    # … and at none of those moments was an event, a member, a checkout or a payment locked
    assert [(request, held) for request, held in seen if held] == []


def test_the_check_sees_a_lock_held_across_a_stripe_call(fake_stripe: FakeStripe) -> None:
    """The watch above would notice: a Stripe call made inside a locked transaction is seen."""
    event = _stored(fs.event("customer.created", {"id": "cus_1", "object": "customer"}))
    seen = _watch(fake_stripe)
    with transaction.atomic():
        StripeEvent.objects.select_for_update().get(pk=event.pk)
        stripe_gateway.charge_refunds(charge_id="ch_x")
    assert seen == [("GET /v1/refunds", ["StripeEvent"])]


def test_stripe_down_while_fetching_leaves_the_event_waiting_unlocked(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = _joined(fake_stripe)
    event = _stored(
        fs.event(
            "charge.refunded",
            fs.charge(charge_id="ch_first", payment_intent="pi_first", amount=21000),
        )
    )
    locked_when_asked: list[bool] = []

    def down(*, charge_id: str) -> list[dict[str, Any]]:
        # asked from another thread: a connection other than the one processing the event
        checker = _start(lambda: _free(StripeEvent, pk=event.pk))
        checker.join(WAIT)
        locked_when_asked.append(checker.result is not True)
        raise stripe_gateway.StripeUnavailableError("Stripe is down")

    monkeypatch.setattr(stripe_gateway, "charge_refunds", down)
    assert webhooks.event_process(event_id=event.pk) == "waiting"
    assert locked_when_asked == [False]
    event.refresh_from_db()
    assert event.status == "received"
    assert event.error == "waiting: could not ask Stripe for the refunds: Stripe is down"
    assert not Refund.objects.filter(payment__membership=joined.member).exists()


# --- The payment method, set from a task after the commit -----------------------------------


def test_the_payment_method_task_reads_the_stored_event_and_the_newest_setup_wins(
    fake_stripe: FakeStripe,
) -> None:
    joined = _joined(fake_stripe)
    metadata = {**joined.session["metadata"], "purpose": "payment_method"}
    intents = []
    events = []
    for created in (fs.now() - 120, fs.now() - 60):
        intent = fake_stripe.next_id("seti")
        fake_stripe.setup_intents[intent] = {
            "id": intent,
            "object": "setup_intent",
            "status": "succeeded",
            "payment_method": fake_stripe.next_id("pm"),
        }
        session = {
            "id": fake_stripe.next_id("cs"),
            "object": "checkout.session",
            "mode": "setup",
            "status": "complete",
            "customer": joined.row.stripe_customer_id,
            "setup_intent": intent,
            "metadata": metadata,
        }
        stored = _stored(fs.session_completed(session, created=created))
        StripeEvent.objects.filter(pk=stored.pk).update(status="processed")
        intents.append(intent)
        events.append(stored.event_id)

    def updates() -> list[str | None]:
        path = f"/v1/subscriptions/{joined.subscription}"
        return [r.idempotency_key for r in fake_stripe.requests if r.path == path]

    # the older setup's task runs last (a retry, say): it sends nothing
    assert stripe_events.payment_method_send(stripe_event_id=events[1]) is True
    assert stripe_events.payment_method_send(stripe_event_id=events[0]) is False
    newest = fake_stripe.setup_intents[intents[1]]["payment_method"]
    assert fake_stripe.subscription_methods == {joined.subscription: newest}
    # running it again sends the very same request; an unknown event sends nothing
    assert stripe_events.payment_method_send(stripe_event_id=events[1]) is True
    assert updates() == [f"payment-method:{intents[1]}"] * 2
    assert stripe_events.payment_method_send(stripe_event_id="evt_unknown") is False
    # once the subscription has ended, nothing is sent
    CheckoutSession.objects.filter(pk=joined.row.pk).update(ended_at=joined.row.created_at)
    assert stripe_events.payment_method_send(stripe_event_id=events[1]) is False
    assert len(updates()) == 2
