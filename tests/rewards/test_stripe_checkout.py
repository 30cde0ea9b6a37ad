"""Joining through Stripe Checkout, against the fake Stripe (tests/rewards/fake_stripe.py):
what our row and Stripe are asked for (amounts, idempotency keys, metadata), the pages and the
API, who may start a checkout, and that coming back from Stripe proves nothing by itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from members.models import Community, Membership
from rewards.models import CheckoutSession, Payment
from tests.factories import UserFactory, add_member, make_community, set_status
from tests.rewards.fake_stripe import (
    SECRET_KEY,
    FakeStripe,
    deliver,
    session_completed,
)

pytestmark = pytest.mark.django_db

Status = Membership.Status


def _join(client: Client, slug: str = "circle") -> Any:
    return client.post(f"/c/{slug}/join/")


def test_a_visitor_starts_joining_and_stripe_is_asked_for_fee_and_subscription(
    fake_stripe: FakeStripe, client: Client, community: Community
) -> None:
    # given: a signed-in person who is not a member
    user = UserFactory()
    client.force_login(user)

    # when: they open the join page
    page = client.get("/c/circle/join/")

    # then: the fees, and a form allowed to lead on to Stripe's page
    assert page.status_code == 200
    text = page.content.decode()
    assert "¥200.00" in text
    assert "¥10.00 a month" in text
    assert "¥210.00" in text
    assert (
        f"form-action 'self' https://checkout.stripe.com {fake_stripe.base_url}"
        in (page.headers["Content-Security-Policy"])
    )

    # when: they continue to payment
    response = _join(client)

    # then: our row, a pending membership, and a redirect to Stripe's page
    row = CheckoutSession.objects.get()
    assert response.status_code == 303
    assert response.headers["Location"] == row.url
    assert row.url.startswith(f"{fake_stripe.base_url}/pay/cs_test_")
    assert (row.kind, row.status, row.entrance_amount, row.monthly_amount, row.currency) == (
        "join", "open", 20000, 1000, "CNY",
    )  # fmt: skip
    membership = Membership.objects.get(user=user, community=community)
    assert (membership.status, membership.role, membership.joined_via) == (
        "pending", "member", "paid",
    )  # fmt: skip
    assert row.membership == membership
    # and Stripe was asked once, with our row's idempotency key, inline prices and metadata
    [call] = fake_stripe.created()
    assert call.idempotency_key == f"checkout:{row.pk}"
    assert call.authorization == f"Bearer {SECRET_KEY}"
    p = call.params
    assert p["mode"] == "subscription"
    assert (p["line_items[0][price_data][unit_amount]"], p["line_items[0][quantity]"]) == (
        "20000",
        "1",
    )
    assert "line_items[0][price_data][recurring][interval]" not in p
    assert p["line_items[1][price_data][unit_amount]"] == "1000"
    assert p["line_items[1][price_data][recurring][interval]"] == "month"
    assert p["line_items[0][price_data][currency]"] == "cny"
    assert p["line_items[0][price_data][product_data][name]"] == "Entrance fee · Circle"
    for prefix in ("metadata", "subscription_data[metadata]"):
        assert p[f"{prefix}[checkout]"] == str(row.pk)
        assert p[f"{prefix}[community]"] == str(community.pk)
        assert p[f"{prefix}[membership]"] == str(membership.pk)
    assert p["client_reference_id"] == str(row.pk)
    assert p["customer_email"] == user.email
    assert p["allowed_payment_method_types[0]"] == "card"
    assert p["success_url"] == f"http://testserver/c/circle/checkout/{row.pk}/done/"
    assert p["cancel_url"] == f"http://testserver/c/circle/checkout/{row.pk}/cancelled/"
    assert int(p["expires_at"]) == int(row.created_at.timestamp()) + 3600

    # when: they come back from Stripe before the webhook — the redirect alone proves nothing
    done = client.get(f"/c/circle/checkout/{row.pk}/done/")
    assert done.status_code == 200
    assert 'data-confirmed="no"' in done.content.decode()
    membership.refresh_from_db()
    assert membership.status == "pending"
    assert not Payment.objects.exists()


def test_a_second_click_reuses_the_row_and_stripe_s_session(
    fake_stripe: FakeStripe, client: Client, community: Community
) -> None:
    client.force_login(UserFactory())
    first, second = _join(client), _join(client)
    assert first.headers["Location"] == second.headers["Location"]
    assert CheckoutSession.objects.count() == 1
    assert len(fake_stripe.created()) == 1


def test_when_stripe_fails_the_retry_sends_the_same_idempotency_key(
    fake_stripe: FakeStripe, client: Client, community: Community
) -> None:
    client.force_login(UserFactory())
    fake_stripe.fail_with = (400, {"type": "invalid_request_error", "message": "try later"})
    failed = _join(client)
    assert failed.status_code == 503
    assert "Stripe could not start the payment" in failed.content.decode()
    row = CheckoutSession.objects.get()
    assert (row.status, row.stripe_session_id, row.url) == ("created", "", "")
    # when: Stripe is back and they try again
    fake_stripe.fail_with = None
    again = _join(client)
    assert again.status_code == 303
    assert CheckoutSession.objects.get().status == "open"
    keys = {call.idempotency_key for call in fake_stripe.created()}
    assert keys == {f"checkout:{row.pk}"}


def test_each_deployment_s_keys_carry_its_prefix(
    fake_stripe: FakeStripe, client: Client, community: Community, settings: Any
) -> None:
    # given: a staging site sharing the Stripe account of another deployment
    settings.STRIPE_DEPLOYMENT_NAME = "staging"
    client.force_login(UserFactory())
    # when
    assert _join(client).status_code == 303
    # then: its key cannot meet the other deployment's key for the same row id
    row = CheckoutSession.objects.get()
    assert [call.idempotency_key for call in fake_stripe.created()] == [
        f"staging:checkout:{row.pk}"
    ]


def test_without_stripe_keys_nothing_is_written(
    settings: Any, client: Client, community: Community
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(UserFactory())
    page = client.get("/c/circle/join/")
    assert "Paying online is not set up on this site yet" in page.content.decode()
    response = _join(client)
    assert response.status_code == 503
    assert not CheckoutSession.objects.exists()
    assert not Membership.objects.filter(status=Status.PENDING).exists()


def test_a_lapsed_member_resumes_with_the_monthly_fee_only(
    fake_stripe: FakeStripe, client: Client, member: Membership
) -> None:
    set_status(member, Status.LAPSED)
    client.force_login(member.user)
    page = client.get("/c/circle/join/")
    assert "Resume your membership" in page.content.decode()
    _join(client)
    row = CheckoutSession.objects.get()
    assert (row.entrance_amount, row.monthly_amount, row.membership_id) == (0, 1000, member.pk)
    params = fake_stripe.created()[0].params
    assert params["mode"] == "subscription"
    assert params["line_items[0][price_data][unit_amount]"] == "1000"
    assert "line_items[1][price_data][unit_amount]" not in params


def test_without_a_monthly_fee_joining_is_a_one_off_payment(
    fake_stripe: FakeStripe, client: Client
) -> None:
    make_community(slug="once", monthly_fee=0)
    client.force_login(UserFactory())
    _join(client, "once")
    params = fake_stripe.created()[0].params
    assert params["mode"] == "payment"
    assert params["payment_intent_data[metadata][checkout]"] == str(
        CheckoutSession.objects.get().pk
    )
    assert "subscription_data[metadata][checkout]" not in params


@pytest.mark.parametrize(
    ("site", "alipay", "wechat_pay", "monthly_fee", "expected"),
    [
        # the community accepts both wallets; WeChat Pay cannot pay a subscription
        (["card", "alipay", "wechat_pay"], True, True, 1000, ["card", "alipay"]),
        # no monthly fee: a one-off payment, which WeChat Pay can pay
        (["card", "alipay", "wechat_pay"], True, True, 0, ["card", "alipay", "wechat_pay"]),
        # the site's Stripe account has them on, but this community did not choose them
        (["card", "alipay", "wechat_pay"], False, False, 1000, ["card"]),
        # the community chose them, but the site's account does not have them on
        (["card"], True, True, 0, ["card"]),
        (["card", "wechat_pay"], True, True, 0, ["card", "wechat_pay"]),
    ],
)
def test_payment_methods_are_the_community_s_choice_of_what_the_site_offers(
    fake_stripe: FakeStripe,
    settings: Any,
    client: Client,
    community: Community,
    site: list[str],
    alipay: bool,
    wechat_pay: bool,
    monthly_fee: int,
    expected: list[str],
) -> None:
    settings.STRIPE_PAYMENT_METHODS = site
    Community.objects.filter(pk=community.pk).update(
        pay_by_alipay=alipay, pay_by_wechat_pay=wechat_pay, monthly_fee=monthly_fee
    )
    client.force_login(UserFactory())
    _join(client)
    params = fake_stripe.created()[0].params
    methods = [v for k, v in params.items() if k.startswith("allowed_payment_method_types")]
    assert methods == expected
    assert ("payment_method_options[wechat_pay][client]" in params) == ("wechat_pay" in expected)


@pytest.mark.parametrize(
    ("role", "status"),
    [("member", "active"), ("moderator", "active"), ("organiser", "active")],
)
def test_members_cannot_join_again(
    fake_stripe: FakeStripe, client: Client, api: APIClient, community: Community, role: str,
    status: str,
) -> None:  # fmt: skip
    person = add_member(community, role=role)
    client.force_login(person.user)
    response = _join(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/circle/"
    api.force_authenticate(person.user)
    refused = api.post("/api/v1/communities/circle/join/", {})
    assert (refused.status_code, list(refused.json())) == (400, ["membership"])
    assert not CheckoutSession.objects.exists()
    assert not fake_stripe.created()


def test_candidates_and_former_members_may_join(
    fake_stripe: FakeStripe, client: Client, community: Community
) -> None:
    candidate = set_status(add_member(community), Status.ACTIVE, role="candidate")
    former = set_status(add_member(community), Status.LEFT)
    for person in (candidate, former):
        client.force_login(person.user)
        assert _join(client).status_code == 303
    rows = CheckoutSession.objects.order_by("pk")
    assert [(r.membership_id, r.entrance_amount) for r in rows] == [
        (candidate.pk, 20000),
        (former.pk, 20000),
    ]


def test_visitors_are_sent_to_sign_in_and_the_landing_page_leads_to_joining(
    fake_stripe: FakeStripe, client: Client, community: Community
) -> None:
    assert (
        client.get("/c/circle/join/")
        .headers["Location"]
        .startswith("/accounts/login/?next=/c/circle/join/")
    )
    landing = client.get("/c/circle/").content.decode()
    assert "/accounts/signup/?next=/c/circle/join/" in landing
    assert "paying online arrives soon" not in landing
    client.force_login(UserFactory())
    assert 'href="/c/circle/join/"' in client.get("/c/circle/").content.decode()
    assert client.get("/c/nowhere/join/").status_code == 404


def test_the_api_starts_joining_and_shows_one_s_own_checkout(
    fake_stripe: FakeStripe, api: APIClient, community: Community
) -> None:
    user = UserFactory()
    assert api.post("/api/v1/communities/circle/join/", {}).status_code in (401, 403)
    api.force_authenticate(user)
    bad = api.post("/api/v1/communities/circle/join/", {"amount": 1})
    assert (bad.status_code, list(bad.json())) == (400, ["amount"])
    assert api.post("/api/v1/communities/nowhere/join/", {}).status_code == 404
    response = api.post("/api/v1/communities/circle/join/", {})
    assert response.status_code == 201, response.content
    data = response.json()
    row = CheckoutSession.objects.get()
    assert data["id"] == row.pk
    assert (data["kind"], data["status"], data["amount_due"], data["membership_status"]) == (
        "join", "open", 21000, "pending",
    )  # fmt: skip
    assert data["url"] == row.url
    assert fake_stripe.created()[0].idempotency_key == f"checkout:{row.pk}"
    assert api.get(f"/api/v1/checkouts/{row.pk}/").json()["status"] == "open"
    # nobody else sees it
    api.force_authenticate(UserFactory())
    assert api.get(f"/api/v1/checkouts/{row.pk}/").status_code == 404


def test_the_thank_you_page_confirms_once_the_webhook_says_paid(
    fake_stripe: FakeStripe,
    client: Client,
    community: Community,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    client.force_login(user)
    _join(client)
    row = CheckoutSession.objects.get()
    session = fake_stripe.pay(row.stripe_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(Client(), session_completed(session)).status_code == 200
    done = client.get(f"/c/circle/checkout/{row.pk}/done/").content.decode()
    assert 'data-confirmed="yes"' in done
    assert "welcome to Circle" in done
    assert Membership.objects.get(user=user, community=community).status == "active"
    # another person cannot open it
    client.force_login(UserFactory())
    assert client.get(f"/c/circle/checkout/{row.pk}/done/").status_code == 404
    assert client.get(f"/c/circle/checkout/{row.pk}/cancelled/").status_code == 404


def test_cancelling_on_stripe_comes_back_to_the_landing_page(
    fake_stripe: FakeStripe, client: Client, community: Community
) -> None:
    client.force_login(UserFactory())
    _join(client)
    row = CheckoutSession.objects.get()
    response = client.get(f"/c/circle/checkout/{row.pk}/cancelled/", follow=True)
    assert response.redirect_chain[-1][0] == "/c/circle/"
    assert "Payment cancelled: nothing was charged." in response.content.decode()


def test_a_challenge_winner_pays_the_difference_and_the_rest_comes_from_the_prize(
    fake_stripe: FakeStripe,
    client: Client,
    community: Community,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: a candidate owed a 120.00 prize, out of the payout hold (the entrance fee: 200.00)
    import datetime

    from django.utils import timezone

    from rewards import ledger
    from tests.factories import bulk_prizes

    candidate = set_status(add_member(community), Status.ACTIVE, role="candidate")
    bulk_prizes(community, [(candidate, 12000, timezone.now() - datetime.timedelta(days=9))])
    client.force_login(candidate.user)
    # when: they open the join page and pay
    page = client.get("/c/circle/join/").content.decode()
    assert "¥120.00" in page
    assert "¥80.00" in page
    assert _join(client).status_code == 303
    row = CheckoutSession.objects.get()
    assert (row.entrance_amount, row.winnings_amount, row.monthly_amount) == (8000, 12000, 1000)
    # while the checkout is open the prize is set aside: it cannot be paid out meanwhile
    from rewards import payouts

    payable = payouts.payable_of(membership=candidate)
    assert (payable.balance, payable.reserved, payable.available) == (12000, 12000, 0)
    assert _join(client).status_code == 303  # a second click: the same checkout
    assert CheckoutSession.objects.count() == 1
    assert fake_stripe.created()[0].params["line_items[0][price_data][unit_amount]"] == "8000"
    session = fake_stripe.pay(row.stripe_session_id)
    for _twice in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(Client(), session_completed(session)).status_code == 200
    # then: a member, the fee recorded as two entrance payments (prize and Stripe), the
    # prize spent, once
    candidate.refresh_from_db()
    assert (candidate.role, candidate.status) == ("member", "active")
    paid = sorted(
        Payment.objects.filter(membership=candidate, kind="entrance").values_list(
            "method", "amount"
        )
    )
    assert paid == [("stripe", 8000), ("winnings", 12000)]
    assert ledger.member_balance(membership=candidate) == 0
    assert ledger.trial_balance(community=community) == 0
