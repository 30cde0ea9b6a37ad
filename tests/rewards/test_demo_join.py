"""The demo's way in without Stripe (rewards.checkout.join_demo): a "demo payment" on the join
page records the fees as an offline payment through services.payment_record, which makes the
payer a member. Offered only with no Stripe key, DEBUG on and DEMO_PAYMENTS on; refused
otherwise; pressing it twice pays nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from members.models import Community, Membership
from rewards import checkout
from rewards.models import Account, Entry, Payment, Transaction
from tests.factories import UserFactory, add_member, set_status

pytestmark = pytest.mark.django_db

Status = Membership.Status
DEMO_BUTTON = 'name="demo"'


@pytest.fixture
def demo_site(settings: Any) -> Any:
    """A site like ``make run``'s: debug on, demo payments on, no Stripe key."""
    settings.DEBUG = True
    settings.DEMO_PAYMENTS = True
    settings.STRIPE_SECRET_KEY = ""
    return settings


def _fund_balance(community: Community, kind: str) -> int:
    rows = Entry.objects.filter(account__community=community, account__kind=kind)
    return sum(rows.values_list("amount", flat=True))


def test_a_newcomer_joins_by_demo_payment(
    demo_site: Any, client: Client, community: Community
) -> None:
    # given: a signed-in person who is not a member, on a demo site
    user = UserFactory()
    client.force_login(user)

    # when: they open the join page
    page = client.get("/c/circle/join/")

    # then: the demo payment is offered and clearly marked
    assert page.status_code == 200
    text = page.content.decode()
    assert DEMO_BUTTON in text
    assert "Demo payment (no money moves)" in text

    # when: they press it
    response = client.post("/c/circle/join/", {"demo": "1"})

    # then: an active member, with the entrance and monthly fees recorded as offline payments
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/circle/"
    membership = Membership.objects.get(community=community, user=user)
    assert (membership.role, membership.status) == (Membership.Role.MEMBER, Status.ACTIVE)
    payments = sorted(
        Payment.objects.filter(membership=membership).values_list("kind", "amount", "method")
    )
    assert payments == [
        (Payment.Kind.ENTRANCE, 20000, Payment.Method.CASH),
        (Payment.Kind.MONTHLY, 1000, Payment.Method.CASH),
    ]
    assert all(
        p.reference == "Demo payment: no money moved" and p.recorded_by == user
        for p in Payment.objects.filter(membership=membership)
    )
    # through the ledger: two balanced payment transactions
    assert Transaction.objects.filter(community=community, kind="payment").count() == 2
    assert _fund_balance(community, Account.Kind.REWARD_FUND) == -20000
    assert _fund_balance(community, Account.Kind.OFFLINE_CASH) == 21000

    # and the member can now read the community's questions
    assert client.get("/c/circle/questions/").status_code == 200


def test_pressing_the_demo_button_twice_pays_once(
    demo_site: Any, client: Client, community: Community
) -> None:
    # given: a newcomer who joined by demo payment
    user = UserFactory()
    client.force_login(user)
    client.post("/c/circle/join/", {"demo": "1"})
    entries = Entry.objects.count()

    # when: the same form is sent again (a double click, a second tab)
    again = client.post("/c/circle/join/", {"demo": "1"})

    # then: they are told they belong already, and nothing more is written
    assert again.status_code == 302
    assert Payment.objects.filter(membership__user=user).count() == 2
    assert Entry.objects.count() == entries
    # and the service refuses in the same way
    with pytest.raises(ValidationError) as raised:
        checkout.join_demo(user=user, community=community)
    assert raised.value.message_dict == {
        "membership": ["You are already a member of this community."]
    }
    assert Payment.objects.filter(membership__user=user).count() == 2


def test_a_lapsed_member_resumes_with_the_monthly_fee_only(
    demo_site: Any, client: Client, community: Community
) -> None:
    lapsed = set_status(add_member(community), Status.LAPSED)
    client.force_login(lapsed.user)

    response = client.post("/c/circle/join/", {"demo": "1"})

    assert response.status_code == 302
    lapsed.refresh_from_db()
    assert lapsed.status == Status.ACTIVE
    assert list(Payment.objects.filter(membership=lapsed).values_list("kind", "amount")) == [
        (Payment.Kind.MONTHLY, 1000)
    ]


def test_an_active_member_is_sent_back_and_pays_nothing(
    demo_site: Any, client: Client, community: Community, member: Membership
) -> None:
    client.force_login(member.user)

    response = client.post("/c/circle/join/", {"demo": "1"})

    assert response.status_code == 302
    assert not Payment.objects.filter(membership=member).exists()


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_and_back(
    demo_site: Any, client: Client, community: Community
) -> None:
    response = client.post("/c/circle/join/", {"demo": "1"})

    assert response.status_code == 302
    assert "/accounts/login/?next=/c/circle/join/" in response.headers["Location"]
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "production",
    [
        {"DEBUG": False},
        {"STRIPE_SECRET_KEY": "sk_test_configured"},
        {"DEMO_PAYMENTS": False},
    ],
    ids=["debug-off", "stripe-keys-set", "demo-payments-off"],
)
def test_no_demo_payment_in_production(
    demo_site: Any, client: Client, community: Community, production: dict[str, Any]
) -> None:
    # given: a site that is not a demo in one way or another
    for name, value in production.items():
        setattr(demo_site, name, value)
    user = UserFactory()
    client.force_login(user)

    # then: the join page offers no demo payment
    page = client.get("/c/circle/join/")
    assert page.status_code == 200
    assert DEMO_BUTTON not in page.content.decode()

    # and the form sent anyway is refused, nothing written
    response = client.post("/c/circle/join/", {"demo": "1"})
    assert response.status_code == 404
    assert not Membership.objects.filter(user=user).exists()
    assert not Payment.objects.exists()
    with pytest.raises(PermissionDenied):
        checkout.join_demo(user=user, community=community)
    assert not Payment.objects.exists()


def test_the_default_is_off_without_debug() -> None:
    # The production default: DEBUG off unless the embedded default (no DATABASE_URL).
    from django.conf import settings

    assert settings.DEBUG is False
    assert checkout.demo_payments_offered() is False
