"""A member's monthly subscription has its own name: rewards.models.Subscription, the join
checkout that started it seen as a subscription (a proxy over the same row)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rewards import subscriptions
from rewards.models import CheckoutSession, Subscription
from tests.factories import add_member, make_community

pytestmark = pytest.mark.django_db


def test_only_joins_that_started_a_subscription_are_subscriptions() -> None:
    community = make_community(slug="subscribed")
    member = add_member(community)
    common = {"community": community, "membership": member, "currency": "CNY"}
    unpaid = CheckoutSession.objects.create(kind="join", monthly_amount=500, **common)
    live = CheckoutSession.objects.create(
        kind="join", monthly_amount=500, stripe_subscription_id="sub_live", **common
    )
    ended = CheckoutSession.objects.create(
        kind="join",
        monthly_amount=500,
        stripe_subscription_id="sub_ended",
        ended_at=timezone.now(),
        **common,
    )
    assert unpaid.pk not in Subscription.objects.values_list("pk", flat=True)
    assert set(Subscription.objects.values_list("stripe_subscription_id", flat=True)) == {
        "sub_live",
        "sub_ended",
    }
    assert list(Subscription.objects.live()) == [live]
    assert list(subscriptions.live_subscriptions(member)) == [live]
    current = subscriptions.current_subscription(member)
    assert isinstance(current, Subscription)
    assert current.pk == live.pk
    assert Subscription.objects.get(pk=ended.pk).stripe_subscription_id == "sub_ended"
    assert str(current).startswith("sub_live")
