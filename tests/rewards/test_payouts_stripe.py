"""Payouts through Stripe Connect (SPEC §2.5), against the fake Stripe
(tests/rewards/fake_stripe.py): a member connects an Express account from their earnings page;
an organiser pays them by transfer, keyed by our Payout row; the ledger moves payable →
payouts in transit → Stripe cash once, whatever is replayed; a refused transfer, a reversed
one and Stripe being down put the money where it belongs; and nothing is written when the
member cannot be paid through Stripe."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from celery.exceptions import Retry
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from members.models import Community, CommunityAuditLog, Membership
from rewards import ledger, payouts, tasks
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, ConnectedAccount, Entry, Payout, StripeEvent, Transaction
from rewards.stripe import gateway as stripe_gateway
from tests.factories import add_member, bulk_prizes, mfa_token
from tests.rewards import fake_stripe as fs
from tests.rewards.fake_stripe import FakeStripe, deliver

pytestmark = pytest.mark.django_db

EARNINGS = "/c/circle/earnings/"
CONNECT = "/c/circle/earnings/connect/"
PAYOUTS = "/api/v1/communities/circle/payouts/"
TRANSFERS = "/v1/transfers"
WON_AT = datetime.datetime(2026, 1, 5, 12, 0, tzinfo=datetime.UTC)  # long out of any hold
REFUSED = "You have insufficient available funds in your Stripe account."
NOT_CONNECTED = (
    "This member has not connected a Stripe account that can receive transfers; pay them by hand."
)
Kind = Account.Kind
Capture = Callable[..., Any]


# --- Helpers ----------------------------------------------------------------------------------


@pytest.fixture
def connect_on(fake_stripe: FakeStripe, settings: Any) -> FakeStripe:
    """The fake Stripe, with Stripe Connect switched on for the site."""
    settings.STRIPE_CONNECT = True
    return fake_stripe


@pytest.fixture
def send(client: Client, django_capture_on_commit_callbacks: Capture) -> Callable[..., Any]:
    """Deliver an event to the webhook, running what it queues (Celery is eager in tests)."""

    def send(event: dict[str, Any]) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, event)
        assert response.status_code == 200, response.content
        return str(StripeEvent.objects.get(event_id=event["id"]).status)

    return send


@pytest.fixture
def organiser_api(api: APIClient, organiser: Membership) -> APIClient:
    """The organiser, with a token issued with a TOTP code (the money API needs it)."""
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, organiser.user)}")
    return api


def _connect(fake: FakeStripe, membership: Membership, *, finish: bool = True) -> str:
    """The member connects an Express account (and, with ``finish``, completes Stripe's
    onboarding and comes back); returns the account's id."""
    payouts.connect_start(
        user=membership.user,
        return_url="http://testserver/c/circle/earnings/?connect=done",
        refresh_url="http://testserver/c/circle/earnings/",
    )
    account_id = ConnectedAccount.objects.get(user=membership.user).stripe_account_id
    if finish:
        fake.complete_onboarding(account_id)
        payouts.connect_refresh(user=membership.user)
    return account_id


def _owed(membership: Membership, amount: int = 5000) -> None:
    """A prize long past its hold: the member is owed ``amount``, all of it payable now."""
    bulk_prizes(membership.community, [(membership, amount, WON_AT)])


def _pay(organiser: Membership, member: Membership, amount: int = 3000) -> Payout:
    return payouts.payout_record(
        actor=organiser.user,
        community=member.community,
        member=member.pk,
        amount=amount,
        method=Payout.Method.STRIPE,
    )


def _run(callbacks: list[Callable[[], Any]], capture: Capture) -> None:
    """Run on-commit callbacks captured earlier (the queued task), and what they queue."""
    with capture(execute=True):
        for callback in callbacks:
            callback()


def _postings(payout: Payout) -> list[tuple[str, list[tuple[str, int]]]]:
    """The payout's ledger transactions, oldest first: key and entries (account, amount)."""
    found = Transaction.objects.filter(idempotency_key__startswith=f"payout:{payout.pk}:")
    return [
        (t.idempotency_key, sorted((e.account.kind, e.amount) for e in t.entries.all()))
        for t in found.prefetch_related("entries__account").order_by("pk")
    ]


def _books(community: Community) -> dict[str, int]:
    """Every account's balance: by kind, with the member's handle for payables."""
    return {
        (f"{a.kind}:{a.membership.profile.handle}" if a.membership else a.kind): balance
        for a, balance in ledger.balances(community=community)
    }


def _snapshot(community: Community) -> tuple[Any, ...]:
    """What a replay must leave exactly as it was."""
    return (
        sorted(Transaction.objects.values_list("pk", "idempotency_key", "occurred_at")),
        sorted(Entry.objects.values_list("pk", "account_id", "amount")),
        _books(community),
        list(Payout.objects.values().order_by("pk")),
        CommunityAuditLog.objects.count(),
    )


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Payout, Transaction, Entry, Account, CommunityAuditLog, ConnectedAccount)
    }


def _audits(event: str) -> list[tuple[Any, ...]]:
    return list(
        CommunityAuditLog.objects.filter(event=event)
        .order_by("pk")
        .values_list("actor_id", "membership_id", "data")
    )


# --- Connecting an account ------------------------------------------------------------------


def test_a_member_connects_from_the_earnings_page_and_a_second_try_reuses_the_account(
    connect_on: FakeStripe, client: Client, member: Membership
) -> None:
    # given: a member on their earnings page, nothing connected yet
    client.force_login(member.user)
    page = client.get(EARNINGS).content.decode()
    assert "Connect a Stripe account" in page
    assert 'action="/c/circle/earnings/connect/"' in page

    # when: they connect
    response = client.post(CONNECT)

    # then: our row, an Express account keyed by it, and on to Stripe's onboarding page
    row = ConnectedAccount.objects.get()
    [created] = connect_on.calls("/v1/accounts")
    assert created.idempotency_key == f"connect-account:{row.pk}"
    assert created.params == {
        "type": "express",
        "capabilities[transfers][requested]": "true",
        "metadata[user]": str(member.user.pk),
        "email": member.user.email,
    }
    [account_id] = connect_on.accounts
    assert (row.user, row.stripe_account_id) == (member.user, account_id)
    assert (row.details_submitted, row.transfers_enabled) == (False, False)
    [link] = connect_on.account_links
    assert (response.status_code, response.headers["Location"]) == (302, link["url"])
    assert link["url"] == f"{connect_on.base_url}/setup/{account_id}/1"
    assert (link["account"], link["type"]) == (account_id, "account_onboarding")
    assert link["return_url"] == f"{settings.SITE_URL}/c/circle/earnings/?connect=done"
    assert link["refresh_url"] == f"{settings.SITE_URL}/c/circle/earnings/"

    # when: they come back before finishing and try again
    assert "Continue with Stripe" in client.get(EARNINGS).content.decode()
    again = client.post(CONNECT)

    # then: the same account, a fresh onboarding link for it; nothing made twice
    assert len(connect_on.calls("/v1/accounts")) == 1
    assert list(connect_on.accounts) == [account_id]
    assert ConnectedAccount.objects.get().stripe_account_id == account_id
    assert [x["account"] for x in connect_on.account_links] == [account_id, account_id]
    assert again.headers["Location"] == f"{connect_on.base_url}/setup/{account_id}/2"


def test_our_row_is_made_before_stripe_is_asked_so_a_retry_sends_the_same_key(
    connect_on: FakeStripe, client: Client, member: Membership
) -> None:
    # given: Stripe failing
    client.force_login(member.user)
    connect_on.go_down()

    # when: the member connects
    response = client.post(CONNECT, follow=True)

    # then: a polite message back on the earnings page; our row is there, with no account yet
    assert response.redirect_chain == [(EARNINGS, 302)]
    assert "Stripe could not set up your account just now." in response.content.decode()
    row = ConnectedAccount.objects.get()
    assert (row.user, row.stripe_account_id) == (member.user, "")
    [failed] = connect_on.calls("/v1/accounts")
    assert failed.idempotency_key == f"connect-account:{row.pk}"

    # when: Stripe is back and they try again
    connect_on.recover()
    client.post(CONNECT)

    # then: the very same request, one account, on our same row
    first, second = connect_on.calls("/v1/accounts")
    assert (second.idempotency_key, second.params) == (first.idempotency_key, first.params)
    [account_id] = connect_on.accounts
    assert ConnectedAccount.objects.get().stripe_account_id == account_id


def test_coming_back_from_onboarding_asks_stripe_how_the_account_stands(
    connect_on: FakeStripe, client: Client, member: Membership
) -> None:
    # given: a member who started connecting
    client.force_login(member.user)
    client.post(CONNECT)
    account_id = ConnectedAccount.objects.get().stripe_account_id

    # when: they come back without finishing
    page = client.get(f"{EARNINGS}?connect=done").content.decode()

    # then: Stripe was asked; not ready yet
    assert len(connect_on.calls(f"/v1/accounts/{account_id}", "GET")) == 1
    row = ConnectedAccount.objects.get()
    assert (row.details_submitted, row.transfers_enabled) == (False, False)
    assert "not ready to receive money yet" in page

    # when: they finish on Stripe and come back
    connect_on.complete_onboarding(account_id)
    page = client.get(f"{EARNINGS}?connect=done").content.decode()

    # then: organisers can pay them through Stripe now
    row.refresh_from_db()
    assert (row.details_submitted, row.transfers_enabled) == (True, True)
    assert "Your Stripe account is connected" in page
    assert len(connect_on.calls(f"/v1/accounts/{account_id}", "GET")) == 2
    # a plain visit does not ask Stripe
    client.get(EARNINGS)
    assert len(connect_on.calls(f"/v1/accounts/{account_id}", "GET")) == 2


def test_stripe_down_on_the_way_back_is_a_message_and_changes_nothing(
    connect_on: FakeStripe, client: Client, member: Membership
) -> None:
    client.force_login(member.user)
    client.post(CONNECT)
    connect_on.go_down()
    page = client.get(f"{EARNINGS}?connect=done")
    assert page.status_code == 200
    assert "Stripe could not be asked just now; try again later." in page.content.decode()
    row = ConnectedAccount.objects.get()
    assert (row.details_submitted, row.transfers_enabled) == (False, False)


def test_the_account_updated_webhook_sets_whether_transfers_can_be_received(
    connect_on: FakeStripe, member: Membership, send: Callable[..., Any]
) -> None:
    # given: a connected account that has not finished onboarding
    account_id = _connect(connect_on, member, finish=False)
    assert not ConnectedAccount.objects.get().transfers_enabled

    # when: Stripe says it is complete (twice, and once more under another event id)
    ready = connect_on.complete_onboarding(account_id)
    event = fs.account_updated(ready)
    statuses = [send(event), send(event), send(fs.account_updated(ready))]

    # then
    assert statuses == ["processed", "processed", "processed"]
    row = ConnectedAccount.objects.get()
    assert (row.stripe_account_id, row.details_submitted, row.transfers_enabled) == (
        account_id,
        True,
        True,
    )

    # when: Stripe later switches transfers off (say, documents needed again)
    ready["capabilities"]["transfers"] = "inactive"
    assert send(fs.account_updated(ready)) == "processed"
    row.refresh_from_db()
    assert (row.details_submitted, row.transfers_enabled) == (True, False)

    # an account that is not one of ours is ignored
    stranger = {**ready, "id": "acct_test_someone_else"}
    assert send(fs.account_updated(stranger)) == "ignored"
    assert ConnectedAccount.objects.count() == 1


def test_connect_events_signed_with_the_connect_endpoint_s_secret_are_accepted(
    connect_on: FakeStripe, client: Client, member: Membership, settings: Any
) -> None:
    # given: Stripe's Connect endpoint has its own signing secret
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_endpoint"
    account_id = _connect(connect_on, member, finish=False)
    ready = connect_on.complete_onboarding(account_id)
    # when: account.updated arrives signed with it; and one signed with neither secret
    accepted = deliver(client, fs.account_updated(ready), secret="whsec_connect_endpoint")
    forged = deliver(client, fs.account_updated(ready), secret="whsec_someone_else")
    # then: the first is stored (and processed), the second refused, nothing stored
    assert accepted.status_code == 200
    assert forged.status_code == 400
    assert StripeEvent.objects.count() == 1


@pytest.mark.parametrize("case", ["connect switched off", "stripe not set up"])
def test_without_stripe_connect_there_is_no_button_and_connecting_is_refused_politely(
    fake_stripe: FakeStripe, settings: Any, client: Client, member: Membership, case: str
) -> None:
    # given: Stripe Connect off for the site (the default), or Stripe not set up at all
    if case == "stripe not set up":
        settings.STRIPE_CONNECT, settings.STRIPE_SECRET_KEY = True, ""
    client.force_login(member.user)

    # when: the member opens their earnings page
    page = client.get(EARNINGS).content.decode()

    # then: no way to connect; they are told how they are paid
    assert "/earnings/connect/" not in page
    assert "Connect a Stripe account" not in page
    assert "An organiser pays you by bank transfer, Alipay, WeChat Pay or cash" in page

    # when: they post to connect anyway
    response = client.post(CONNECT, follow=True)

    # then: back to the page with a message; nothing made, Stripe not asked
    assert response.redirect_chain == [(EARNINGS, 302)]
    assert "Payouts through Stripe are not set up on this site." in response.content.decode()
    assert not ConnectedAccount.objects.exists()
    assert fake_stripe.requests == []


def test_the_earnings_page_lets_its_connect_form_lead_on_to_stripe(
    connect_on: FakeStripe, client: Client, member: Membership
) -> None:
    client.force_login(member.user)
    page = client.get(EARNINGS)
    assert "https://connect.stripe.com" in page.headers["Content-Security-Policy"]


# --- Paying a member by transfer -----------------------------------------------------------------


def test_an_organiser_pays_a_connected_member_by_transfer_once(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a member owed 50.00 with a connected account
    account_id = _connect(connect_on, member)
    _owed(member, 5000)

    # when: the organiser pays them 30.00 through Stripe (the task runs on commit)
    with django_capture_on_commit_callbacks(execute=True):
        payout = _pay(organiser, member, 3000)

    # then: one transfer, keyed by our row, of that amount to their account
    [call] = connect_on.calls(TRANSFERS)
    assert call.idempotency_key == f"payout:{payout.pk}"
    assert call.params == {
        "amount": "3000",
        "currency": "cny",
        "destination": account_id,
        "metadata[payout]": str(payout.pk),
        "metadata[community]": str(community.pk),
        "metadata[membership]": str(member.pk),
    }
    [transfer_id] = connect_on.transfers
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id, payout.stripe_account_id) == (
        "paid",
        transfer_id,
        account_id,
    )
    assert (payout.amount, payout.currency, payout.method) == (3000, "CNY", "stripe")
    assert payout.paid_at is not None
    # payable → in transit → Stripe cash, each step once
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 3000), ("payouts_in_transit", -3000)]),
        (f"payout:{payout.pk}:paid", [("payouts_in_transit", 3000), ("provider_cash", -3000)]),
    ]
    books = _books(community)
    assert (books["member_payable:plain"], books["payouts_in_transit"]) == (-2000, 0)
    assert books["provider_cash"] == -3000
    assert ledger.member_balance(membership=member) == 2000
    assert ledger.trial_balance(community=community) == 0
    assert _audits(MoneyEvent.PAYOUT_RECORDED) == [
        (
            organiser.user.pk,
            member.pk,
            {
                "payout": payout.pk,
                "amount": 3000,
                "method": "stripe",
                "reference": "",
                "batch": None,
            },
        )
    ]

    # when: the task runs again (a retry, a second worker)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.payout_transfer_send.delay(payout.pk)

    # then: Stripe is not asked again
    assert len(connect_on.calls(TRANSFERS)) == 1


def test_an_organiser_pays_through_the_api_with_two_factors(
    connect_on: FakeStripe,
    organiser_api: APIClient,
    member: Membership,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given
    account_id = _connect(connect_on, member)
    _owed(member, 5000)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_api.post(
            PAYOUTS, {"member": member.pk, "amount": 1250, "method": "stripe"}, format="json"
        )

    # then: recorded (being sent when answered), then sent and paid
    assert response.status_code == 201, response.content
    body = response.json()
    payout = Payout.objects.get()
    assert body["id"] == payout.pk
    assert (body["amount"], body["method"], body["status"], body["stripe_transfer"]) == (
        1250,
        "stripe",
        "pending",
        None,
    )
    [call] = connect_on.calls(TRANSFERS)
    assert call.idempotency_key == f"payout:{payout.pk}"
    assert (call.params["amount"], call.params["currency"], call.params["destination"]) == (
        "1250",
        "cny",
        account_id,
    )
    [transfer_id] = connect_on.transfers
    listed = organiser_api.get(PAYOUTS).json()
    [row] = listed["payouts"]
    assert (row["id"], row["status"], row["stripe_transfer"]) == (payout.pk, "paid", transfer_id)
    assert [(p["member"], p["balance"], p["available"]) for p in listed["payables"]] == [
        (member.pk, 3750, 3750)
    ]
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 1250), ("payouts_in_transit", -1250)]),
        (f"payout:{payout.pk}:paid", [("payouts_in_transit", 1250), ("provider_cash", -1250)]),
    ]
    assert ledger.trial_balance(community=member.community) == 0


def test_the_transfer_is_keyed_and_marked_as_this_deployments(
    connect_on: FakeStripe,
    settings: Any,
    organiser: Membership,
    member: Membership,
    send: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a deployment sharing its Stripe account with others
    settings.STRIPE_DEPLOYMENT_NAME = "staging"
    _connect(connect_on, member)
    _owed(member)

    with django_capture_on_commit_callbacks(execute=True):
        payout = _pay(organiser, member, 3000)

    [call] = connect_on.calls(TRANSFERS)
    assert call.idempotency_key == f"staging:payout:{payout.pk}"
    assert call.params["metadata[deployment]"] == "staging"
    assert Payout.objects.get().status == "paid"
    # another deployment's transfer naming a payout of the same id is not ours
    [made] = connect_on.transfers.values()
    theirs = {**made, "id": "tr_test_theirs", "metadata": {**made["metadata"], "deployment": "x"}}
    before = _snapshot(member.community)
    assert send(fs.transfer_created(theirs)) == "ignored"
    assert _snapshot(member.community) == before


# --- Replays, reversals ------------------------------------------------------------------------


def test_replaying_transfer_created_after_the_task_changes_nothing(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    send: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a payout sent and paid
    _connect(connect_on, member)
    _owed(member)
    with django_capture_on_commit_callbacks(execute=True):
        payout = _pay(organiser, member, 3000)
    before = _snapshot(community)

    # when: Stripe's transfer.created arrives, twice, and again under another event id
    [made] = connect_on.transfers.values()
    event = fs.transfer_created(made)
    statuses = [send(event), send(event), send(fs.transfer_created(made))]

    # then: acknowledged, and nothing changed
    assert statuses == ["processed", "processed", "processed"]
    assert _snapshot(community) == before
    assert len(_postings(payout)) == 2
    assert ledger.member_balance(membership=member) == 2000
    assert ledger.trial_balance(community=community) == 0


def test_transfer_created_before_the_task_ran_pays_once_and_the_task_then_does_nothing(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    send: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a payout recorded; its task queued but not run yet
    account_id = _connect(connect_on, member)
    _owed(member)
    with django_capture_on_commit_callbacks() as queued:
        payout = _pay(organiser, member, 3000)
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 3000), ("payouts_in_transit", -3000)])
    ]

    # when: Stripe tells us of the transfer first (an earlier call got through), twice
    made = fs.transfer(
        transfer_id="tr_test_early",
        amount=3000,
        destination=account_id,
        metadata={"payout": str(payout.pk), "community": str(community.pk)},
        created=fs.now() - 60,
    )
    event = fs.transfer_created(made, created=made["created"])
    assert [send(event), send(event)] == ["processed", "processed"]

    # then: paid, with the transfer's id and time
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id) == ("paid", "tr_test_early")
    assert payout.paid_at == datetime.datetime.fromtimestamp(made["created"], tz=datetime.UTC)
    after_webhook = _snapshot(community)

    # when: the task runs at last, and the webhook comes once more
    _run(queued, django_capture_on_commit_callbacks)
    assert send(fs.transfer_created(made)) == "processed"

    # then: Stripe was not asked, nothing posted twice
    assert connect_on.calls(TRANSFERS) == []
    assert _snapshot(community) == after_webhook
    assert [key for key, _entries in _postings(payout)] == [
        f"payout:{payout.pk}:out",
        f"payout:{payout.pk}:paid",
    ]
    assert ledger.member_balance(membership=member) == 2000
    assert ledger.trial_balance(community=community) == 0


def test_a_full_reversal_puts_the_money_back_in_the_members_payable_once(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    send: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: 30.00 of 50.00 paid by transfer
    _connect(connect_on, member)
    _owed(member, 5000)
    with django_capture_on_commit_callbacks(execute=True):
        payout = _pay(organiser, member, 3000)
    [transfer_id] = connect_on.transfers

    # when: the transfer is reversed in full; the event replayed, and sent under a new id
    reversed_ = connect_on.reverse_transfer(transfer_id)
    assert (reversed_["amount"], reversed_["amount_reversed"]) == (3000, 3000)
    event = fs.transfer_reversed(reversed_)
    statuses = [send(event), send(event), send(fs.transfer_reversed(reversed_))]

    # then: Stripe cash → the member's payable, once
    assert statuses == ["processed", "processed", "processed"]
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id) == ("reversed", transfer_id)
    assert payout.failed_at is not None
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 3000), ("payouts_in_transit", -3000)]),
        (f"payout:{payout.pk}:paid", [("payouts_in_transit", 3000), ("provider_cash", -3000)]),
        (f"payout:{payout.pk}:reversed", [("member_payable", -3000), ("provider_cash", 3000)]),
    ]
    books = _books(community)
    assert (books["member_payable:plain"], books["payouts_in_transit"]) == (-5000, 0)
    assert books["provider_cash"] == 0
    assert ledger.member_balance(membership=member) == 5000
    assert ledger.trial_balance(community=community) == 0
    assert _audits(MoneyEvent.PAYOUT_FAILED) == [
        (None, member.pk, {"payout": payout.pk, "reversed": True})
    ]
    # a late transfer.created changes nothing either
    before = _snapshot(community)
    assert send(fs.transfer_created(reversed_)) == "processed"
    assert _snapshot(community) == before


def test_a_reversal_heard_of_before_the_transfer_posts_both_steps_once(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    send: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a payout whose task has not run; Stripe made the transfer and reversed it
    account_id = _connect(connect_on, member)
    _owed(member, 5000)
    with django_capture_on_commit_callbacks() as queued:
        payout = _pay(organiser, member, 3000)
    made = fs.transfer(
        transfer_id="tr_test_gone",
        amount=3000,
        destination=account_id,
        metadata={"payout": str(payout.pk)},
        amount_reversed=3000,
    )

    # when: transfer.reversed arrives first (twice), then the task runs, then transfer.created
    event = fs.transfer_reversed(made)
    assert [send(event), send(event)] == ["processed", "processed"]
    _run(queued, django_capture_on_commit_callbacks)
    assert send(fs.transfer_created(made)) == "processed"

    # then: in transit → Stripe cash → back to the payable, each once; Stripe never asked
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id) == ("reversed", "tr_test_gone")
    assert [key for key, _entries in _postings(payout)] == [
        f"payout:{payout.pk}:out",
        f"payout:{payout.pk}:paid",
        f"payout:{payout.pk}:reversed",
    ]
    assert connect_on.calls(TRANSFERS) == []
    assert ledger.member_balance(membership=member) == 5000
    assert _books(community)["provider_cash"] == 0
    assert ledger.trial_balance(community=community) == 0


def test_a_partial_reversal_is_left_for_the_organiser(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    send: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    _connect(connect_on, member)
    _owed(member, 5000)
    with django_capture_on_commit_callbacks(execute=True):
        _pay(organiser, member, 3000)
    [transfer_id] = connect_on.transfers
    before = _snapshot(community)

    partly = connect_on.reverse_transfer(transfer_id, 1000)

    assert send(fs.transfer_reversed(partly)) == "ignored"
    assert _snapshot(community) == before
    assert Payout.objects.get().status == "paid"


# --- Stripe refusing, Stripe down ---------------------------------------------------------------


def test_a_refused_transfer_fails_the_payout_and_puts_the_money_back(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a connected member owed 50.00; the platform's Stripe balance too low
    _connect(connect_on, member)
    _owed(member, 5000)
    connect_on.refuse("balance_insufficient", REFUSED)

    # when: the organiser pays them 30.00 through Stripe
    with django_capture_on_commit_callbacks(execute=True):
        payout = _pay(organiser, member, 3000)

    # then: asked once (a refusal is not retried), the payout failed with Stripe's reason
    [call] = connect_on.calls(TRANSFERS)
    assert call.idempotency_key == f"payout:{payout.pk}"
    payout.refresh_from_db()
    assert (payout.status, payout.error, payout.stripe_transfer_id) == ("failed", REFUSED, "")
    assert (payout.paid_at, payout.failed_at is not None) == (None, True)
    # payable → in transit → back to the payable
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 3000), ("payouts_in_transit", -3000)]),
        (f"payout:{payout.pk}:failed", [("member_payable", -3000), ("payouts_in_transit", 3000)]),
    ]
    books = _books(community)
    assert (books["member_payable:plain"], books["payouts_in_transit"]) == (-5000, 0)
    assert "provider_cash" not in books
    assert ledger.member_balance(membership=member) == 5000
    assert ledger.trial_balance(community=community) == 0
    assert _audits(MoneyEvent.PAYOUT_FAILED) == [
        (None, member.pk, {"payout": payout.pk, "error": REFUSED})
    ]

    # when: Stripe would say yes now, but the task runs again and the sweep comes round
    connect_on.recover()
    before = _snapshot(community)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.payout_transfer_send.delay(payout.pk)
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=1))
    assert payouts.pending_sweep() == 0

    # then: a failed payout is never sent again; the organiser pays anew if they wish
    assert len(connect_on.calls(TRANSFERS)) == 1
    assert _snapshot(community) == before


def test_stripe_down_leaves_the_payout_in_transit_and_the_sweep_sends_it_again_once(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    time_machine: time_machine.TimeMachineFixture,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a connected member owed 50.00; a payout of 30.00 recorded while Stripe is down
    account_id = _connect(connect_on, member)
    _owed(member, 5000)
    recorded_at = timezone.now()
    time_machine.move_to(recorded_at, tick=False)
    connect_on.go_down()
    with django_capture_on_commit_callbacks() as queued:
        payout = _pay(organiser, member, 3000)

    # when: its task runs
    with pytest.raises(Retry) as retry:
        _run(queued, django_capture_on_commit_callbacks)

    # then: it raised StripeUnavailableError, so Celery schedules it again (eager here: the
    # Retry comes back to us); so does its body, run once more
    assert isinstance(retry.value.exc, stripe_gateway.StripeUnavailableError)
    with pytest.raises(stripe_gateway.StripeUnavailableError):
        payouts.transfer_send(payout_id=payout.pk)
    # both asked with the same key; nothing beyond the step into transit is posted
    calls = connect_on.calls(TRANSFERS)
    assert [c.idempotency_key for c in calls] == [f"payout:{payout.pk}"] * 2
    assert calls[0].params == calls[1].params
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id, payout.error) == ("pending", "", "")
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 3000), ("payouts_in_transit", -3000)])
    ]
    books = _books(community)
    assert (books["member_payable:plain"], books["payouts_in_transit"]) == (-2000, -3000)
    assert "provider_cash" not in books
    assert ledger.trial_balance(community=community) == 0
    assert connect_on.transfers == {}

    # when: Stripe is back; the sweep comes round before ten minutes have passed
    connect_on.recover()
    time_machine.move_to(recorded_at + datetime.timedelta(minutes=9), tick=False)
    assert payouts.pending_sweep() == 0
    assert len(connect_on.calls(TRANSFERS)) == len(calls)

    # when: and after ten minutes (the beat task)
    time_machine.move_to(recorded_at + datetime.timedelta(minutes=11), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.payouts_pending_sweep.delay()

    # then: sent once more, the very same request, and paid once
    *_failed, last = connect_on.calls(TRANSFERS)
    assert (last.idempotency_key, last.params) == (calls[0].idempotency_key, calls[0].params)
    [transfer_id] = connect_on.transfers
    assert connect_on.transfers[transfer_id]["destination"] == account_id
    payout.refresh_from_db()
    assert (payout.status, payout.stripe_transfer_id) == ("paid", transfer_id)
    assert _postings(payout) == [
        (f"payout:{payout.pk}:out", [("member_payable", 3000), ("payouts_in_transit", -3000)]),
        (f"payout:{payout.pk}:paid", [("payouts_in_transit", 3000), ("provider_cash", -3000)]),
    ]
    books = _books(community)
    assert (books["member_payable:plain"], books["payouts_in_transit"]) == (-2000, 0)
    assert books["provider_cash"] == -3000
    assert ledger.trial_balance(community=community) == 0

    # when: the sweep comes round again
    time_machine.move_to(recorded_at + datetime.timedelta(minutes=21), tick=False)
    assert payouts.pending_sweep() == 0
    assert len(connect_on.calls(TRANSFERS)) == len(calls) + 1


# --- Who cannot be paid through Stripe -----------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("never connected", NOT_CONNECTED),
        ("onboarding not finished", NOT_CONNECTED),
        ("connect switched off", "Paying through Stripe is not set up on this site."),
    ],
    ids=["never connected", "onboarding not finished", "connect switched off"],
)
def test_paying_through_stripe_someone_who_cannot_receive_it_is_refused_naming_method(
    connect_on: FakeStripe,
    settings: Any,
    organiser_api: APIClient,
    member: Membership,
    case: str,
    message: str,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given: a member owed 50.00 who cannot be paid through Stripe
    _owed(member, 5000)
    if case == "onboarding not finished":
        _connect(connect_on, member, finish=False)
    elif case == "connect switched off":
        _connect(connect_on, member)
        settings.STRIPE_CONNECT = False
    before, asked = _counts(), len(connect_on.requests)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_api.post(
            PAYOUTS, {"member": member.pk, "amount": 3000, "method": "stripe"}, format="json"
        )

    # then: 400 naming the method; nothing written, Stripe not asked
    assert response.status_code == 400
    assert response.json() == {"method": [message]}
    assert _counts() == before
    assert len(connect_on.requests) == asked
    assert ledger.member_balance(membership=member) == 5000


def test_two_members_paid_together_are_each_paid_to_their_own_account(
    connect_on: FakeStripe,
    community: Community,
    organiser: Membership,
    member: Membership,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    account_id = _connect(connect_on, member)
    other = add_member(community, profile={"handle": "other"})
    other_account = _connect(connect_on, other)
    _owed(member, 5000)
    bulk_prizes(community, [(other, 800, WON_AT)])

    with django_capture_on_commit_callbacks(execute=True):
        first = _pay(organiser, member, 5000)
        second = _pay(organiser, other, 800)

    by_key = {c.idempotency_key: c.params["destination"] for c in connect_on.calls(TRANSFERS)}
    assert by_key == {f"payout:{first.pk}": account_id, f"payout:{second.pk}": other_account}
    assert sorted(Payout.objects.values_list("status", flat=True)) == ["paid", "paid"]
    assert ledger.member_balance(membership=member) == 0
    assert ledger.member_balance(membership=other) == 0
    assert ledger.trial_balance(community=community) == 0
